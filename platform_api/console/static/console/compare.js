/* Two or more models of one task side by side on one split of one dataset: a table of their
   figures (the best of each in bold) and their precision-recall curves overlaid, class by class.
   The models come from ?models=1,2; each one's report is its own when the dataset and split
   are those it was evaluated on, else an evaluation (an earlier one, or one queued here). */
"use strict";
(() => {
  const { api, all, el, plotConfig } = Console;
  const ids = (new URLSearchParams(window.location.search).get("models") || "").split(",").map(Number).filter(Boolean);
  let reports = [];  // [{model, report}]

  function fail(message) {
    const node = document.getElementById("compare-error");
    node.hidden = false;
    node.textContent = message;
  }

  function say(message) { document.getElementById("compare-status").textContent = message; }

  // The model's report on (dataset, split): its own, an earlier evaluation's, or a new one's.
  async function reportOn(model, dataset, split) {
    if (model.dataset === dataset.id) {
      const own = await api(`models/${model.id}/evaluation/`);
      if (own.ok && own.data.split === split) return own.data;
    }
    const earlier = (await all(`models/${model.id}/evaluations/`)).find((e) => e.dataset === dataset.id && e.split === split
      && e.runtime === "torch" && e.status !== "failed");
    let evaluationId = earlier?.id;
    if (evaluationId === undefined) {
      const { ok, data } = await api(`models/${model.id}/evaluations/`, { method: "POST", json: { dataset: dataset.id, split } });
      if (!ok) throw new Error(`model ${model.id}: ${JSON.stringify(data)}`);
      evaluationId = data.id;
    }
    for (;;) {
      const { ok, data } = await api(`models/${model.id}/evaluations/${evaluationId}/`);
      if (ok && data.status === "succeeded") return data.report;
      if (!ok || data.status === "failed") throw new Error(`model ${model.id}: evaluation ${evaluationId} failed: ${data.error || data.detail}`);
      say(`model ${model.id}: evaluation ${evaluationId} is ${data.status}…`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  function drawTable() {
    const keys = [];
    for (const { report } of reports) for (const [k, v] of Evaluation.headline(report.metrics)) if (typeof v === "number" && !keys.includes(k)) keys.push(k);
    const lower = (k) => k === "expected_calibration_error" || k.startsWith("num_");
    const best = Object.fromEntries(keys.map((k) => {
      const values = reports.map(({ report }) => report.metrics[k]).filter((v) => typeof v === "number");
      return [k, lower(k) ? Math.min(...values) : Math.max(...values)];
    }));
    document.getElementById("compare-table").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { text: "model" }), keys.map((k) => el("th", { class: "num", text: k })))),
      el("tbody", {}, reports.map(({ model, report }) => el("tr", { "data-model": model.id },
        el("td", {}, el("a", { href: `/jobs/${model.job}/`, text: `model ${model.id} (${model.template})` })),
        keys.map((k) => el("td", { class: `num${!k.startsWith("num_") && report.metrics[k] === best[k] ? " best" : ""}`,
                                   text: Evaluation.format(report.metrics[k]) }))))));
  }

  function drawCurves() {
    const name = document.getElementById("compare-class").value;
    const traces = reports.flatMap(({ model, report }) => Evaluation.curveTraces(
      { ...report, per_class: { [name]: report.per_class[name] || {} } }, `model ${model.id} · `));
    const node = document.getElementById("compare-curves");
    node.dataset.curves = String(traces.length);
    Plotly.react(node, traces, Evaluation.curveLayout(reports[0].report), plotConfig);
  }

  async function compare(models, dataset, split) {
    document.getElementById("compare-error").hidden = true;
    document.getElementById("compare").disabled = true;
    try {
      reports = [];
      for (const model of models) {
        say(`model ${model.id}…`);
        reports.push({ model, report: await reportOn(model, dataset, split) });
      }
      say(`${models.length} models on the ${split} split of ${dataset.name} (#${dataset.id})`);
      const classes = [...new Set(reports.flatMap(({ report }) => Object.keys(report.per_class)))];
      const select = document.getElementById("compare-class");
      select.replaceChildren(...classes.map((c) => el("option", { value: c, text: c })));
      select.onchange = drawCurves;
      document.getElementById("comparison").hidden = false;
      drawTable();
      drawCurves();
    } catch (error) {
      fail(error.message);
    } finally {
      document.getElementById("compare").disabled = false;
    }
  }

  async function start() {
    if (ids.length < 2) { fail("Pick two or more models on the Models page, then Compare."); return; }
    const models = [];
    for (const id of ids) {
      const { ok, data } = await api(`models/${id}/`);
      if (!ok) { fail(`model ${id} not found`); return; }
      models.push(data);
    }
    const tasks = models.map((model) => model.task);
    if (new Set(tasks).size > 1) { fail(`these models do different tasks (${[...new Set(tasks)].join(", ")}): compare models of one task`); return; }
    const task = tasks[0];
    const datasets = await Evaluation.fillDatasetAndSplit(document.getElementById("compare-dataset"),
      document.getElementById("compare-split"), task, ["valid", "test", "train"], models[0].dataset);
    ready = (dataset, split) => compare(models, datasets.find((d) => String(d.id) === dataset), split);
    document.getElementById("compare").disabled = false;
  }

  let ready = null;  // set once the models and datasets are known
  document.getElementById("compare").disabled = true;
  document.getElementById("compare-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const dataset = document.getElementById("compare-dataset").value;
    if (ready && dataset) ready(dataset, document.getElementById("compare-split").value);
  });
  start();
})();
