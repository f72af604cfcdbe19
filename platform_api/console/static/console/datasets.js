/* Datasets: the list, and an upload with its progress (XMLHttpRequest reports it). */
"use strict";
(() => {
  const { el, all, showErrors, clearErrors, when, status, progress } = Console;
  const form = document.getElementById("upload-form");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  async function refresh() {
    const rows = await all("datasets/");
    document.querySelector("#datasets tbody").replaceChildren(...rows.map((d) => el("tr", {},
      el("td", { text: d.id }), el("td", {}, el("a", { href: `/datasets/${d.id}/`, text: d.name })),
      el("td", { text: d.format }), el("td", { text: d.task }), el("td", {}, status(d.status)),
      el("td", { class: "num", text: d.num_images }), el("td", { text: d.classes.join(", ") }),
      el("td", { text: when(d.created_at) }))));
    document.querySelector(".empty").hidden = rows.length > 0;
    return rows.some((d) => d.status === "importing");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form);
    const bar = document.getElementById("upload-progress");
    const request = new XMLHttpRequest();
    request.open("POST", "/api/v1/datasets/");
    request.setRequestHeader("X-CSRFToken", csrf);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress(bar, (100 * e.loaded) / e.total, `Uploading ${Math.round((100 * e.loaded) / e.total)}%`);
    });
    request.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (e) { body = { detail: request.responseText }; }
      if (request.status === 201) {
        progress(bar, 100, "Uploaded; importing…");
        window.location.href = `/datasets/${body.id}/`;
      } else {
        bar.hidden = true;
        showErrors(form, body);
      }
    });
    request.addEventListener("error", () => { bar.hidden = true; showErrors(form, { non_field_errors: ["the upload failed (network)"] }); });
    progress(bar, 0, "Uploading 0%");
    request.send(new FormData(form));
  });

  Console.every(3000, refresh);
})();
