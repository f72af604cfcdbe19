/* One job: live progress with ETA, the training loss per step, validation metrics per
   epoch with the best epoch marked, the confusion matrix, and cancel. */
"use strict";
(() => {
  const { api, confirmDelete, el, facts, setStatus, progress, when, duration, plotLayout, plotConfig, isRate, showErrors,
          clearErrors, status, objectId: id } = Console;
  const ACTIVE = ["queued", "running"];
  let lastStep = -1, lastEvaluations = -1;

  // Metrics that are one number per evaluation (per-class tables and the matrix aside).
  function scalarKeys(entries) {
    const keys = new Set();
    for (const e of entries) for (const [k, v] of Object.entries(e.metrics)) if (isRate(k, v)) keys.add(k);
    return [...keys];
  }

  function drawLoss(series) {
    const traces = [{ type: "scatter", mode: "lines", name: "step loss", x: series.loss.map((p) => p.step),
                      y: series.loss.map((p) => p.loss), line: { color: "#3559e0", width: 1.5 } },
                    { type: "scatter", mode: "lines+markers", name: "epoch mean", x: series.epoch_loss.map((p) => p.step),
                      y: series.epoch_loss.map((p) => p.loss), text: series.epoch_loss.map((p) => `epoch ${p.epoch}`),
                      line: { color: "#f28e2b", width: 2 }, marker: { size: 7 } }];
    Plotly.react("loss-chart", traces, { ...plotLayout, xaxis: { title: { text: "step" } }, yaxis: { title: { text: "loss" } } }, plotConfig);
    document.getElementById("loss-chart").dataset.points = String(series.loss.length + series.epoch_loss.length);
  }

  function drawMetrics(entries) {
    const keys = scalarKeys(entries);
    const traces = keys.map((key) => ({ type: "scatter", mode: "lines+markers", name: key,
      x: entries.map((e) => e.epoch), y: entries.map((e) => e.metrics[key] ?? null) }));
    const best = entries.filter((e) => e.best).at(-1);
    const layout = { ...plotLayout, xaxis: { title: { text: "epoch" }, dtick: entries.length < 15 ? 1 : undefined }, shapes: [], annotations: [] };
    if (best) {
      layout.shapes.push({ type: "line", x0: best.epoch, x1: best.epoch, yref: "paper", y0: 0, y1: 1, line: { color: "#067647", dash: "dot", width: 2 } });
      layout.annotations.push({ x: best.epoch, yref: "paper", y: 1, yanchor: "bottom", showarrow: false,
        text: `best: epoch ${best.epoch}${best.monitor ? ` (${best.monitor} ${Number(best.metrics[best.monitor]).toFixed(3)})` : ""}`,
        font: { color: "#067647" } });
    }
    Plotly.react("metrics-chart", traces, layout, plotConfig);
    const matrixEntry = best && best.metrics.confusion_matrix ? best : entries.filter((e) => e.metrics.confusion_matrix).at(-1);
    if (matrixEntry) drawConfusion(matrixEntry, matrixEntry === best);
  }

  function drawConfusion(entry, isBest) {
    const matrix = entry.metrics.confusion_matrix;
    const classes = entry.metrics.per_class ? Object.keys(entry.metrics.per_class) : matrix.map((_, i) => String(i));
    document.getElementById("confusion-card").hidden = false;
    document.getElementById("confusion-epoch").textContent = `(epoch ${entry.epoch}${isBest ? ", the best" : ""}; rows: true class, columns: predicted)`;
    const max = Math.max(1, ...matrix.flat());
    Plotly.react("confusion-chart", [{ type: "heatmap", z: matrix, x: classes, y: classes, colorscale: [[0, "#f7fbff"], [1, "#08306b"]], zmin: 0,
      hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>" }], {
      ...plotLayout, margin: { l: 90, r: 20, t: 10, b: 70 },
      xaxis: { title: { text: "predicted" }, side: "bottom" }, yaxis: { title: { text: "true" }, autorange: "reversed" },
      annotations: matrix.flatMap((row, i) => row.map((value, j) => ({ x: classes[j], y: classes[i], text: String(value),
        showarrow: false, font: { color: value > max / 2 ? "#fff" : "#1f2430" } }))),
    }, plotConfig);
  }

  function progressLabel(job) {
    const p = job.progress || {};
    const parts = [`${(p.percent ?? 0).toFixed(1)}%`];
    if (p.epochs) parts.push(`epoch ${p.epoch}/${p.epochs}`);
    if (p.steps) parts.push(`step ${p.step}/${p.steps}`);
    if (job.status === "running" && p.eta_seconds !== null && p.eta_seconds !== undefined) parts.push(`ETA ${duration(p.eta_seconds)}`);
    if (p.loss !== null && p.loss !== undefined) parts.push(`loss ${Number(p.loss).toFixed(4)}`);
    return parts.join(" · ");
  }

  function showModel(job) {
    const box = document.getElementById("job-model");
    if (!job.model || box.dataset.model === String(job.model)) return;
    box.dataset.model = String(job.model);
    box.hidden = false;
    box.replaceChildren(el("p", {}, "Registered ", el("a", { href: "/models/", id: "model-link", text: `model ${job.model}` }),
      " (the best epoch's weights). Deploy it on the ", el("a", { href: "/models/", text: "Models" }), " page."));
  }

  const datasetNames = {};  // looked up once: a job's dataset never changes
  async function datasetName(datasetId) {
    if (!(datasetId in datasetNames)) {
      const { ok, data } = await api(`datasets/${datasetId}/`);
      datasetNames[datasetId] = ok ? `${data.name} (#${datasetId})` : `dataset ${datasetId}`;
    }
    return datasetNames[datasetId];
  }

  // --- the model's evaluation: its own report, and evaluations on other datasets -----------
  let evaluationModel = null, evaluationsActive = false;

  async function showReport(path, source, own) {
    const { ok, data } = await api(path);
    const card = document.getElementById("evaluation-card");
    if (!ok) return;
    const report = data.report === undefined ? data : data.report;
    if (!report) return;
    card.hidden = false;
    document.getElementById("evaluation-source").textContent = source(report);
    document.getElementById("own-report").hidden = own;
    Evaluation.render(document.getElementById("evaluation"), report);
  }

  function ownReport() {
    return showReport(`models/${evaluationModel.id}/evaluation/`,
      (r) => `(model ${evaluationModel.id} on the ${r.split} split of its dataset, ${r.runtime})`, true);
  }

  async function fillEvaluateForm(task) {
    await Evaluation.fillDatasetAndSplit(document.getElementById("evaluate-dataset"),
                                         document.getElementById("evaluate-split"), task, ["test", "valid", "train"]);
    document.getElementById("evaluate-card").hidden = false;
  }

  async function listEvaluations() {
    const { ok, data } = await api(`models/${evaluationModel.id}/evaluations/?limit=50`);
    if (!ok) return;
    const rows = data.results;
    evaluationsActive = rows.some((e) => ["queued", "running"].includes(e.status));
    document.querySelector("#evaluations tbody").replaceChildren(...rows.map((e) => {
      const main = Object.entries(e.metrics).find(([k, v]) => typeof v === "number" && !k.startsWith("num_"));
      const show = el("button", { class: "secondary show-evaluation", text: "Show", disabled: e.status !== "succeeded" || undefined });
      show.addEventListener("click", () => showReport(`models/${evaluationModel.id}/evaluations/${e.id}/`,
        (r) => `(evaluation ${e.id}: the ${r.split} split of dataset ${e.dataset}, ${r.runtime})`, false));
      return el("tr", { "data-evaluation": e.id }, el("td", { text: `#${e.id}` }), el("td", { text: `dataset ${e.dataset} · ${e.split} · ${e.runtime}` }),
        el("td", {}, status(e.status)), el("td", { class: "num", text: main ? `${main[0]} ${Evaluation.format(main[1])}` : (e.error || "") }),
        el("td", {}, show));
    }));
  }

  let evaluationShown = false;
  async function showEvaluation(job) {
    if (!job.model || evaluationShown) return;
    const model = await api(`models/${job.model}/`);
    if (!model.ok) return;
    evaluationModel = model.data;
    await ownReport();
    await fillEvaluateForm(evaluationModel.task);
    await listEvaluations();
    evaluationShown = true;  // only now: a failed step is tried again on the next refresh
    Console.every(2000, async () => { if (evaluationsActive) await listEvaluations(); return true; });
  }

  document.getElementById("own-report").addEventListener("click", ownReport);
  document.getElementById("evaluate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    clearErrors(form.parentNode);
    const body = { dataset: Number(document.getElementById("evaluate-dataset").value),
                   split: document.getElementById("evaluate-split").value, runtime: document.getElementById("evaluate-runtime").value };
    const { ok, data } = await api(`models/${evaluationModel.id}/evaluations/`, { method: "POST", json: body });
    if (!ok) { showErrors(form.parentNode, data); return; }
    await listEvaluations();
  });

  async function refresh() {
    const { ok, data: job } = await api(`jobs/${id}/`);
    if (!ok) return false;
    const datasetText = await datasetName(job.dataset);
    document.getElementById("job-name").textContent = job.name ? `· ${job.name}` : "";
    setStatus(document.getElementById("job-status"), job.status);
    progress(document.getElementById("job-progress"), job.progress?.percent ?? 0, progressLabel(job));
    document.getElementById("job-progress").dataset.percent = String(job.progress?.percent ?? 0);
    facts(document.getElementById("job-facts"), [
      ["Template", job.template], ["Dataset", el("a", { href: `/datasets/${job.dataset}/`, text: datasetText, id: "job-dataset" })],
      ["Precision", job.precision || `${job.requested_precision} (decided when a worker starts it)`],
      ["Attempts", job.attempts > 1 ? `${job.attempts} (resumed from epoch ${job.resumed_from_epoch}, step ${job.resumed_from_step})` : null],
      ["Submitted", when(job.created_at)], ["Started", when(job.started_at)], ["Finished", when(job.finished_at)],
      ["Hyperparameters", el("code", { text: Object.entries(job.hyperparameters).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("  ") })],
    ]);
    const error = document.getElementById("job-error");
    error.hidden = !job.error;
    error.textContent = job.error ? `${job.error.code}: ${job.error.message}` : "";
    const cancel = document.getElementById("cancel-job");
    cancel.hidden = !ACTIVE.includes(job.status) || job.cancel_requested;
    document.getElementById("delete-job").hidden = ACTIVE.includes(job.status);
    showModel(job);
    await showEvaluation(job);

    const step = job.progress?.step ?? 0;
    if (step !== lastStep || !ACTIVE.includes(job.status)) {
      lastStep = step;
      const [loss, metrics] = await Promise.all([api(`jobs/${id}/metrics/loss/`), api(`jobs/${id}/metrics/`)]);
      if (loss.ok) drawLoss(loss.data);
      if (metrics.ok && metrics.data.length !== lastEvaluations) {
        lastEvaluations = metrics.data.length;
        drawMetrics(metrics.data);
      }
    }
    return ACTIVE.includes(job.status);
  }

  document.getElementById("cancel-job").addEventListener("click", async () => {
    const { ok, data } = await api(`jobs/${id}/cancel/`, { method: "POST" });
    if (!ok) alert(data.detail || JSON.stringify(data));
    document.getElementById("cancel-job").hidden = true;
  });

  document.getElementById("delete-job").addEventListener("click", async () => {
    const question = `Delete job ${id} with its metrics and loss history? This cannot be undone.`;
    if (await confirmDelete(`jobs/${id}/`, question, document.getElementById("delete-error"))) window.location.href = "/jobs/";
  });

  Console.every(1000, refresh);
})();
