/* Models, one table per task with that task's metrics (the best of each column in bold), with
   deploy, stop and try buttons for their deployments. */
"use strict";
(() => {
  const { api, all, confirmDelete, el, status, isRate } = Console;
  const LIVE = ["pending", "ready"];

  const TASKS = {
    classification: { title: "Classification", metrics: ["accuracy", "exact_match_accuracy", "f1_macro", "precision_macro", "recall_macro"] },
    instance_segmentation: { title: "Instance segmentation", metrics: ["segm/AP", "segm/AP50", "segm/AP75"] },
    semantic_segmentation: { title: "Semantic segmentation", metrics: ["mIoU", "pixel_accuracy"] },
  };
  let templateTasks = null;  // template id -> task, read once
  const picked = new Set();  // models ticked for comparison (kept across refreshes)
  const pick = (id, on) => (on ? picked.add(id) : picked.delete(id));
  const runtimes = new Map();  // model id -> the runtime chosen to deploy it in (kept across refreshes)

  // The task's own figures that some model has; other scalar rates only when it has none of them.
  function metricKeys(models, task) {
    const present = (k) => models.some((m) => isRate(k, m.metrics[k]));
    const preferred = (TASKS[task]?.metrics || []).filter(present);
    if (preferred.length) return preferred;
    const keys = [];
    for (const m of models) for (const [k, v] of Object.entries(m.metrics)) if (isRate(k, v) && !keys.includes(k)) keys.push(k);
    return keys.slice(0, 5);
  }

  function format(value) {
    if (typeof value !== "number") return "";
    return Number.isInteger(value) ? String(value) : value.toFixed(4);
  }

  async function act(path, button, json) {
    button.disabled = true;
    const { ok, data } = await api(path, { method: "POST", json });
    if (!ok) alert(data.detail || JSON.stringify(data));
    await refresh();
  }

  function remove(model) {
    const button = el("button", { class: "danger delete", text: "Delete" });
    button.addEventListener("click", async () => {
      const question = `Delete model ${model.id} with its weights and exports? Its job stays. This cannot be undone.`;
      if (await confirmDelete(`models/${model.id}/`, question, document.getElementById("delete-error"))) await refresh();
    });
    return button;
  }

  const FORMAT_NAMES = { pytorch: "PyTorch", onnx: "ONNX", "onnx-int8": "INT8" };

  function downloads(model) {
    const links = Object.entries(FORMAT_NAMES).map(([format, text]) => el("a", {
      class: "download", href: `/api/v1/models/${model.id}/export/?format=${format}`, download: "",
      title: `the ${format} export: ${format === "pytorch" ? "weights" : "the graph"}, config.json, labels.json and a README `
             + `(built on first download${format === "onnx-int8" ? ", behind its accuracy gate" : ""})`, text }));
    const int8 = model.exports.find((e) => e.format === "onnx-int8" && e.figures && e.figures.metric);
    return [...links, int8 ? el("div", { class: "hint int8-figures" }, int8Figures(int8.figures)) : null];
  }

  // The INT8 gate's figures: the metric before and after, and the speed against ONNX Runtime fp32.
  function int8Figures(f) {
    const speed = f.images_per_s_batch_1 || {};
    const ratio = speed.onnxruntime ? speed["onnxruntime-int8"] / speed.onnxruntime : null;
    return `INT8: ${f.metric} ${format(f.quantized)} (${format(f.original)} in ${f.compared_with}, `
           + `−${Number(f.drop_points).toFixed(2)} pts)${ratio ? `, ${ratio.toFixed(2)}× ONNX Runtime fp32 at batch 1` : ""}`;
  }

  function controls(model, deployment) {
    if (!deployment || !LIVE.includes(deployment.status)) {
      const runtime = el("select", { class: "runtime", title: "what serves it; auto: the fastest that passes the INT8 gate here",
                                     onchange: (e) => runtimes.set(model.id, e.target.value) },
        el("option", { value: "", text: "default runtime" }),
        ["onnxruntime", "onnxruntime-int8", "torch", "auto"].map((name) => el("option", { value: name, text: name })));
      runtime.value = runtimes.get(model.id) || "";
      const deploy = el("button", { class: "deploy", "data-model": model.id, text: "Deploy" });
      deploy.addEventListener("click", () => act(`models/${model.id}/deploy/`, deploy, runtime.value ? { runtime: runtime.value } : undefined));
      return [deployment ? status(deployment.status) : null, deployment?.error ? el("span", { class: "error", text: ` ${deployment.error}` }) : null,
              " ", runtime, " ", deploy, " ", remove(model)];
    }
    const stop = el("button", { class: "danger stop", text: "Stop" });
    stop.addEventListener("click", () => act(`deployments/${deployment.id}/stop/`, stop));
    const served = deployment.served_runtime || deployment.runtime;
    const badge = status(deployment.status);
    badge.title = `served by ${served}${deployment.runtime === "auto" ? " (auto's choice)" : ""}`;
    badge.dataset.runtime = served;
    return [badge, " ",
            deployment.status === "ready" ? el("a", { class: "button try", href: `/deployments/${deployment.id}/try/`, text: "Try it" }) : null,
            " ", stop];
  }

  function table(models, task, latest) {
    const keys = metricKeys(models, task);
    const best = Object.fromEntries(keys.map((k) => [k, Math.max(...models.map((m) => m.metrics[k]).filter((v) => typeof v === "number"))]));
    const head = el("thead", {}, el("tr", {}, el("th", { text: "" }),
      ["Model", "Job", "Template", "Dataset", "Classes", ...keys, "Download", "Deployment"].map((h, i) =>
        el("th", { text: h, class: i >= 5 && i < 5 + keys.length ? "num" : "" }))));
    const body = el("tbody", {}, ...models.map((m) => el("tr", { "data-model": m.id },
      el("td", {}, el("input", { type: "checkbox", class: "pick", value: m.id, title: "pick to compare",
                                 checked: picked.has(m.id) || undefined, onchange: (e) => pick(m.id, e.target.checked) })),
      el("td", { text: `#${m.id}` }), el("td", {}, el("a", { href: `/jobs/${m.job}/`, text: `job ${m.job}` })),
      el("td", { text: m.template }), el("td", {}, el("a", { href: `/datasets/${m.dataset}/`, text: m.dataset })),
      el("td", { text: m.classes.length }),
      keys.map((k) => el("td", { class: `num${models.length > 1 && m.metrics[k] === best[k] ? " best" : ""}`, text: format(m.metrics[k]) })),
      el("td", { class: "downloads" }, downloads(m)),
      el("td", { class: "controls" }, controls(m, latest.get(m.id))))));
    const compare = el("button", { class: "secondary compare", text: "Compare picked", "data-task": task });
    compare.addEventListener("click", () => {
      const ids = models.map((m) => m.id).filter((id) => picked.has(id));
      if (ids.length < 2) { alert("Pick two or more models of this table to compare."); return; }
      window.location.href = `/models/compare/?models=${ids.join(",")}`;
    });
    return el("div", { class: "task-models", "data-task": task },
      el("h2", {}, TASKS[task]?.title || task, " ", compare),
      el("div", { class: "scroll" }, el("table", { class: "list models" }, head, body)));
  }

  async function refresh() {
    if (templateTasks === null) {
      const templates = await all("templates/");
      templateTasks = Object.fromEntries(templates.map((t) => [t.id, t.task]));
    }
    const [models, deployments] = await Promise.all([all("models/"), all("deployments/")]);
    const latest = new Map();  // model id -> its newest deployment (the list is newest first)
    for (const d of deployments) if (!latest.has(d.model)) latest.set(d.model, d);
    const byTask = new Map();
    for (const m of models) {
      const task = templateTasks[m.template] || "other";
      if (!byTask.has(task)) byTask.set(task, []);
      byTask.get(task).push(m);
    }
    const order = [...Object.keys(TASKS), "other"].filter((t) => byTask.has(t));
    document.getElementById("models").replaceChildren(...order.map((t) => table(byTask.get(t), t, latest)));
    document.querySelector(".empty").hidden = models.length > 0;
    return true;
  }

  Console.every(2000, refresh);
})();
