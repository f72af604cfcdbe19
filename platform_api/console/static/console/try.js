/* Try a deployment: send an image, draw what it predicts (masks and boxes for
   segmentation) over it, and list the predictions. */
"use strict";
(() => {
  const { api, el, showErrors, clearErrors, setStatus, objectId: id } = Console;
  const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  const form = document.getElementById("try-form");

  const colour = (clsId) => PALETTE[clsId % PALETTE.length];

  function loadImage(src) {
    return new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => resolve(image);
      image.onerror = () => reject(new Error("the picture could not be shown"));
      image.src = src;
    });
  }

  // A binary mask (PNG, 0 or 255) as a translucent layer of the class's colour.
  async function maskLayer(base64, hex, width, height) {
    const mask = await loadImage(`data:image/png;base64,${base64}`);
    const layer = document.createElement("canvas");
    layer.width = width; layer.height = height;
    const context = layer.getContext("2d");
    context.drawImage(mask, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height);
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    for (let i = 0; i < pixels.data.length; i += 4) {
      const on = pixels.data[i] >= 128;
      pixels.data[i] = r; pixels.data[i + 1] = g; pixels.data[i + 2] = b; pixels.data[i + 3] = on ? 115 : 0;
    }
    context.putImageData(pixels, 0, 0);
    return layer;
  }

  // The picture at the size it is shown, times the screen's pixel ratio, with masks, boxes and
  // labels drawn at that resolution: a small image is enlarged (pixels kept sharp), its labels are not.
  async function draw(file, predictions) {
    const url = URL.createObjectURL(file);
    const image = await loadImage(url);
    URL.revokeObjectURL(url);
    const canvas = document.getElementById("try-canvas");
    const ratio = window.devicePixelRatio || 1;
    const shown = Math.min(canvas.parentElement.clientWidth || 520, 520);
    const scale = (shown / image.naturalWidth) * ratio;
    canvas.width = Math.round(image.naturalWidth * scale); canvas.height = Math.round(image.naturalHeight * scale);
    canvas.style.width = `${shown}px`;
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = image.naturalWidth >= 260;
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const line = 2 * ratio;
    const fontPx = 12 * ratio;
    context.font = `${fontPx}px system-ui, sans-serif`;
    for (const p of predictions) {
      if (p.mask) {
        context.imageSmoothingEnabled = false;
        context.drawImage(await maskLayer(p.mask, colour(p.cls_id), image.naturalWidth, image.naturalHeight),
          0, 0, canvas.width, canvas.height);
      }
      if (p.bbox) {
        const [x1, y1, x2, y2] = p.bbox.map((v) => v * scale);
        context.strokeStyle = colour(p.cls_id); context.lineWidth = line;
        context.strokeRect(x1, y1, x2 - x1, y2 - y1);
        const text = `${p.label} ${(p.conf * 100).toFixed(0)}%`;
        const height = fontPx + 2 * line;
        const top = y1 >= height ? y1 - height : y1;  // above the box, or inside it at the top edge
        context.fillStyle = colour(p.cls_id);
        context.fillRect(x1, top, context.measureText(text).width + 2 * line, height);
        context.fillStyle = "#fff";
        context.fillText(text, x1 + line, top + fontPx);
      }
    }
    const boxes = predictions.some((p) => p.bbox);
    document.querySelector("#predictions th.box").hidden = !boxes;
    document.querySelector("#predictions tbody").replaceChildren(...predictions.map((p) => el("tr", { class: "prediction" },
      el("td", {}, el("span", { class: "swatch", style: `background:${colour(p.cls_id)}` })),
      el("td", { text: p.label }), el("td", { class: "num", text: `${(p.conf * 100).toFixed(1)}%` }),
      ...(boxes ? [el("td", { text: p.bbox ? p.bbox.join(", ") : "" })] : []))));
    if (!predictions.length) {
      const hint = threshold.disabled ? "nothing predicted above the model's own threshold: lower it with the slider"
        : `nothing predicted at or above ${threshold.value}`;
      document.querySelector("#predictions tbody").append(el("tr", {}, el("td", { colspan: 4, text: hint })));
    }
    const first = predictions[0];
    document.getElementById("top-label").textContent = first && !first.mask ? `${first.label} (${(first.conf * 100).toFixed(1)}%)` : "";
    document.getElementById("result").hidden = false;
  }

  const threshold = document.getElementById("try-threshold");
  const thresholdValue = document.getElementById("try-threshold-value");
  const showThreshold = () => { thresholdValue.textContent = threshold.disabled ? "the model's default" : threshold.value; };
  document.getElementById("try-own-threshold").addEventListener("change", (event) => {
    threshold.disabled = !event.target.checked;
    showThreshold();
    if (document.getElementById("try-image").files[0]) form.requestSubmit();
  });
  threshold.addEventListener("input", showThreshold);
  threshold.addEventListener("change", () => { if (document.getElementById("try-image").files[0]) form.requestSubmit(); });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const file = document.getElementById("try-image").files[0];
    if (!file) { showErrors(form, { image: ["choose an image first"] }); return; }
    const body = new FormData();
    body.append("image", file);
    if (!threshold.disabled) body.append("threshold", threshold.value);
    const button = document.getElementById("try-submit");
    button.disabled = true;
    const { ok, data } = await api(`deployments/${id}/predict/`, { method: "POST", form: body });
    button.disabled = false;
    if (!ok) { showErrors(form, data); return; }
    await draw(file, data.predictions[0]);
  });

  (async () => {
    const { ok, data: d } = await api(`deployments/${id}/`);
    if (!ok) return;
    setStatus(document.getElementById("deployment-status"), d.status);
    const model = await api(`models/${d.model}/`);
    if (model.ok) {
      document.getElementById("deployment-facts").textContent =
        `Model ${d.model} (${model.data.template}), classes: ${model.data.classes.join(", ")}`;
    }
    document.getElementById("try-submit").disabled = d.status !== "ready";
  })();
})();
