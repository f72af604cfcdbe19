"""Safe extraction: hostile or broken archives fail with a message and leave nothing behind."""
import stat
import struct
import zipfile

import pytest

from tests.datasets.dataset_zip_helpers import image_bytes, noise_png, write_zip
from platform_api.datasets.importers import DatasetImportError, ImportLimits, import_archive

CAT, DOG = image_bytes(color=(250, 0, 0)), image_bytes(color=(0, 0, 250))


def minimal_classification(prefix=""):
    return {f"{prefix}{split}/{cls}/{i}.png": (CAT if cls == "cat" else DOG)
            for split in ("train", "valid") for cls in ("cat", "dog") for i in (1, 2)}


def assert_nothing_left(dest):
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == [] if dest.parent.exists() else True


def expect_error(archive, dest, match, limits=ImportLimits()):
    with pytest.raises(DatasetImportError, match=match):
        import_archive(archive, "classification_folder", dest, limits)
    assert_nothing_left(dest)


def test_it_rejects_a_file_that_is_not_a_zip(tmp_path, dest):
    upload = tmp_path / "upload.zip"
    upload.write_bytes(b"this is a tarball, honest")
    expect_error(upload, dest, "not a readable zip archive")


def test_it_rejects_a_member_with_a_bad_crc(tmp_path, dest):
    members = minimal_classification()
    members["train/cat/1.png"] = b"A" * 200 + CAT
    upload = write_zip(tmp_path / "upload.zip", members, compression=zipfile.ZIP_STORED)
    data = bytearray(upload.read_bytes())
    at = data.index(b"A" * 200)
    data[at] = ord("B")  # the stored CRC no longer matches the data
    upload.write_bytes(bytes(data))
    expect_error(upload, dest, r"train/cat/1.png: corrupt zip member \(Bad CRC-32")


@pytest.mark.parametrize("evil", [
    "../evil.png", "a/../../evil.png", "/tmp/evil.png", "C:/evil.png", "C:\\evil.png", "c:evil.png",
    "..\\evil.png", "train\\..\\..\\evil.png", "\\\\server\\share\\evil.png",
])
def test_it_rejects_path_traversal(make_zip, dest, tmp_path, evil):
    upload = make_zip({**minimal_classification(), evil: CAT})
    expect_error(upload, dest, "unsafe path in archive")
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "datasets" / "evil.png").exists()


def test_it_rejects_symlink_members(tmp_path, dest):
    upload = write_zip(tmp_path / "upload.zip", minimal_classification())
    with zipfile.ZipFile(upload, "a") as archive:
        link = zipfile.ZipInfo("train/cat/passwd.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    expect_error(upload, dest, "train/cat/passwd.png: symbolic links are not allowed")


def test_it_rejects_too_many_files(make_zip, dest):
    upload = make_zip(minimal_classification())  # 8 files
    expect_error(upload, dest, "the archive has 8 members; the limit is 7", ImportLimits(max_files=7))


def test_it_rejects_declared_total_size_over_the_limit(make_zip, dest):
    upload = make_zip(minimal_classification())
    total = sum(len(data) for data in minimal_classification().values())
    expect_error(upload, dest, "expands to more than", ImportLimits(max_uncompressed_bytes=total - 1))
    import_archive(upload, "classification_folder", dest, ImportLimits(max_uncompressed_bytes=total))


def test_it_rejects_a_member_over_the_per_file_limit(make_zip, dest):
    members = minimal_classification()
    members["train/cat/big.png"] = noise_png(64, seed=1)  # ~12 KB
    upload = make_zip(members)
    expect_error(upload, dest, "train/cat/big.png: .* the limit per file is 5000", ImportLimits(max_member_bytes=5000))


def test_it_rejects_a_member_whose_header_understates_its_size(tmp_path, dest):
    """Headers can lie: the bytes actually produced are what count (here the CRC catches
    the lie; the byte counter would stop an honest-CRC stream at the limit)."""
    members = minimal_classification()
    members["train/cat/3.png"] = b"x" * 50_000
    upload = write_zip(tmp_path / "upload.zip", members, compression=zipfile.ZIP_STORED)
    data = bytearray(upload.read_bytes())
    entry = data.index(b"PK\x01\x02")  # central directory entries: name at +46
    while not data[entry + 46:].startswith(b"train/cat/3.png"):
        entry = data.index(b"PK\x01\x02", entry + 4)
    struct.pack_into("<I", data, entry + 24, 100)  # central directory: uncompressed size 100
    upload.write_bytes(bytes(data))
    limits = ImportLimits(max_uncompressed_bytes=sum(len(d) for d in minimal_classification().values()) + 1000)
    with pytest.raises(DatasetImportError, match="train/cat/3.png"):
        import_archive(upload, "classification_folder", dest, limits)
    assert_nothing_left(dest)


def test_it_rejects_a_decompression_bomb(make_zip, dest):
    members = minimal_classification()
    members["train/cat/bomb.bmp"] = b"\0" * (2 * 1024 * 1024)  # deflates ~1000:1
    expect_error(make_zip(members), dest, r"train/cat/bomb.bmp: compression ratio above 200 \(possible zip bomb\)")


def test_it_accepts_a_small_highly_compressible_member(make_zip, dest):
    members = minimal_classification()
    members["README.txt"] = b" " * 100_000  # ratio ~1000 but tiny: no bomb
    result = import_archive(make_zip(members), "classification_folder", dest)
    assert result.num_images == 8


def test_it_rejects_encrypted_members(tmp_path, dest):
    upload = write_zip(tmp_path / "upload.zip", minimal_classification())
    data = bytearray(upload.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature)  # the first member: train/cat/1.png
        data[at + flag_offset] |= 0x1
    upload.write_bytes(bytes(data))
    expect_error(upload, dest, "train/cat/1.png: encrypted members are not supported")


def test_it_rejects_a_compression_method_zipfile_cannot_read(tmp_path, dest):
    upload = write_zip(tmp_path / "upload.zip", minimal_classification())
    data = bytearray(upload.read_bytes())
    for signature, method_offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        struct.pack_into("<H", data, data.index(signature) + method_offset, 9)  # Deflate64: the first member
    upload.write_bytes(bytes(data))
    expect_error(upload, dest, r"train/cat/1.png: compressed with method 9 \(deflate64\), which cannot be read")


def test_it_rejects_an_empty_archive(make_zip, dest):
    expect_error(make_zip({}), dest, "the upload is an empty zip archive")


def test_it_rejects_the_same_path_twice(tmp_path, dest):
    upload = write_zip(tmp_path / "upload.zip", minimal_classification())
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(upload, "a") as archive:
        archive.writestr("train/cat/1.png", DOG)
    expect_error(upload, dest, "train/cat/1.png: the archive holds this path twice")


def test_it_ignores_os_junk_and_strips_a_wrapper_folder(make_zip, dest):
    members = minimal_classification(prefix="mydata/")
    members.update({
        "__MACOSX/mydata/train/cat/._1.png": b"resource fork",
        "mydata/.DS_Store": b"finder",
        "mydata/train/cat/Thumbs.db": b"explorer",
        "mydata/train/dog/.hidden.png": b"not an image",
        "mydata/train/": b"",
    })
    result = import_archive(make_zip(members), "classification_folder", dest)
    assert result.splits == {"train": 4, "valid": 4}
    on_disk = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert on_disk == ["manifest.json"] + sorted(minimal_classification())


def test_it_strips_nested_wrappers_despite_a_loose_readme(make_zip, dest):
    members = minimal_classification(prefix="export/mydata/")
    members.update({"README.txt": b"about", "export/LICENSE": b"cc-by"})
    result = import_archive(make_zip(members), "classification_folder", dest)
    assert result.manifest["splits"]["train"]["items"][0]["image"] == "train/cat/1.png"
    assert not (dest / "README.txt").exists() and (dest / "train/cat/1.png").is_file()


def test_it_does_not_strip_a_folder_beside_a_loose_image(make_zip, dest):
    members = minimal_classification(prefix="mydata/")
    members["cover.png"] = CAT
    expect_error(make_zip(members), dest, "cover.png: image at the archive root")


def test_it_rejects_a_file_name_the_filesystem_cannot_store(make_zip, dest):
    members = minimal_classification()
    members["train/cat/" + "x" * 300 + ".png"] = CAT
    expect_error(make_zip(members), dest, "this file name cannot be stored")


def test_it_keeps_a_lone_split_folder(make_zip, dest):
    """"train/" alone is a split, not a wrapper to strip: the error is about the missing split."""
    members = {k: v for k, v in minimal_classification().items() if k.startswith("train/")}
    expect_error(make_zip(members), dest, "missing split 'valid'")


def test_it_refuses_a_non_empty_destination(make_zip, dest):
    dest.mkdir(parents=True)
    (dest / "keep.txt").write_text("previous import")
    with pytest.raises(FileExistsError):
        import_archive(make_zip(minimal_classification()), "classification_folder", dest)
    assert (dest / "keep.txt").read_text() == "previous import"


def test_it_imports_into_an_existing_empty_destination(make_zip, dest):
    dest.mkdir(parents=True)
    result = import_archive(make_zip(minimal_classification()), "classification_folder", dest)
    assert (dest / "manifest.json").is_file() and result.num_images == 8
    assert [p.name for p in dest.parent.iterdir()] == ["ds1"]  # no staging folder left


def test_it_rejects_an_unknown_format(make_zip, dest):
    with pytest.raises(DatasetImportError, match="unknown dataset format 'yolo'"):
        import_archive(make_zip(minimal_classification()), "yolo", dest)


def test_its_byte_counter_stops_a_stream_longer_than_its_header():
    """CPython's zipfile already stops at the declared size; the counter is the second line
    of defence and must trip on bytes actually written, whatever the headers said."""
    from platform_api.datasets.importers.archive import _Budget

    limits = ImportLimits(max_uncompressed_bytes=1000, max_member_bytes=600)
    with pytest.raises(DatasetImportError, match="b.png: larger than the limit of 600 bytes per file"):
        _Budget(limits).add("b.png", member_bytes=601, compressed=601, n=601)
    budget = _Budget(limits)
    budget.add("a.png", member_bytes=500, compressed=500, n=500)
    budget.add("b.png", member_bytes=500, compressed=500, n=500)  # exactly at the total limit
    with pytest.raises(DatasetImportError, match="c.png: the archive expands to more than 1000 bytes"):
        budget.add("c.png", member_bytes=1, compressed=1, n=1)


def test_it_rejects_a_path_that_is_both_file_and_folder(make_zip, dest):
    members = minimal_classification()
    members["train/cat"] = b"a file where a folder is"
    expect_error(make_zip(members), dest, "train/cat: is both a file and a folder")


def test_a_folder_name_too_long_to_store_is_named_in_the_error(make_zip, dest):
    long_folder = "c" * 300
    upload = make_zip({f"train/{long_folder}/a.png": image_bytes(), f"valid/{long_folder}/b.png": image_bytes()})
    with pytest.raises(DatasetImportError, match="cannot be stored"):
        import_archive(upload, "classification_folder", dest)
