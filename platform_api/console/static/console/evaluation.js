/* An evaluation report (GET /models/{id}/evaluation/ or an evaluation's `report`) drawn for a
   person: its figures, the precision-recall curve of each class, the per-class table, the
   reliability diagram or the confusion matrix, and the images the model got most wrong, as
   thumbnails that open larger. Shared by the job page and the model comparison. */
"use strict";
const Evaluation = (() => {
  const { el, plotLayout, plotConfig } = Console;

  const CLASS_COLUMNS = {
    classification: ["precision", "recall", "f1", "support", "average_precision", "roc_auc"],
    multi_label: ["precision", "recall", "f1", "support", "average_precision", "tuned_threshold", "f1_at_tuned_threshold"],
    instance_segmentation: ["AP", "AP50", "AP75"],
    semantic_segmentation: ["IoU", "pixel_accuracy", "pixels"],
  };

  function format(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value !== "number") return String(value);
    return Number.isInteger(value) ? String(value) : value.toFixed(4);
  }

  // The report's one-number figures, per-class IoU aside (the class table shows them).
  function headline(metrics) {
    return Object.entries(metrics).filter(([key]) => !key.startsWith("IoU/"));
  }

  function metricsTable(metrics) {
    return el("table", { class: "list figures" }, el("tbody", {}, headline(metrics).map(([key, value]) =>
      el("tr", { "data-metric": key }, el("th", { text: key }), el("td", { class: "num", text: format(value) })))));
  }

  function classTable(report) {
    const columns = CLASS_COLUMNS[report.multi_label ? "multi_label" : report.task] || [];
    const head = el("thead", {}, el("tr", {}, el("th", { text: "class" }), columns.map((c) => el("th", { class: "num", text: c }))));
    const rows = Object.entries(report.per_class).map(([name, figures]) => el("tr", { "data-class": name },
      el("td", { text: name }), columns.map((c) => el("td", { class: "num", text: format(figures[c]) }))));
    return el("div", { class: "scroll" }, el("table", { class: "list per-class" }, head, el("tbody", {}, rows)));
  }

  // One trace per class with a curve (a class absent from the split has none).
  function curveTraces(report, prefix = "") {
    return Object.entries(report.per_class).filter(([, f]) => f.pr_curve && f.pr_curve.recall.length).map(([name, f]) => ({
      type: "scatter", mode: "lines", name: `${prefix}${name}`, x: f.pr_curve.recall, y: f.pr_curve.precision,
      text: f.pr_curve.thresholds.map((t) => `threshold ${format(t)}`),
      hovertemplate: "recall %{x:.3f}, precision %{y:.3f}<br>%{text}<extra>%{fullData.name}</extra>",
      line: { shape: report.task === "instance_segmentation" ? "linear" : "vh" },
    }));
  }

  function curveLayout(report) {
    const iou = report.task === "instance_segmentation" ? " (mask IoU 0.5)" : "";
    return { ...plotLayout, xaxis: { title: { text: `recall${iou}` }, range: [0, 1.02] },
             yaxis: { title: { text: "precision" }, range: [0, 1.05] } };
  }

  function drawCurves(node, report) {
    const traces = curveTraces(report);
    node.dataset.curves = String(traces.length);
    Plotly.react(node, traces, curveLayout(report), plotConfig);
  }

  function drawReliability(node, calibration) {
    const bins = calibration.bins;
    Plotly.react(node, [
      { type: "bar", name: "accuracy", x: bins.map((b) => (b.lower + b.upper) / 2), y: bins.map((b) => b.accuracy),
        width: bins.map((b) => (b.upper - b.lower) * 0.9), text: bins.map((b) => `${b.count} images`),
        hovertemplate: "confidence %{x:.2f}: accuracy %{y:.3f} (%{text})<extra></extra>", marker: { color: "#3559e0" } },
      { type: "scatter", mode: "lines", name: "perfectly calibrated", x: [0, 1], y: [0, 1], line: { dash: "dot", color: "#667085" } },
    ], { ...plotLayout, xaxis: { title: { text: "confidence" }, range: [0, 1] }, yaxis: { title: { text: "accuracy" }, range: [0, 1] },
         annotations: [{ xref: "paper", yref: "paper", x: 0.02, y: 0.98, showarrow: false,
                         text: `ECE ${format(calibration.expected_calibration_error)}` }] }, plotConfig);
  }

  function drawConfusion(node, matrix, classes) {
    Plotly.react(node, [{ type: "heatmap", z: matrix, x: classes, y: classes, colorscale: [[0, "#f7fbff"], [1, "#08306b"]], zmin: 0,
      hovertemplate: "true %{y}, predicted %{x}: %{z}<extra></extra>" }], {
      ...plotLayout, margin: { l: 90, r: 20, t: 10, b: 70 },
      xaxis: { title: { text: "predicted" } }, yaxis: { title: { text: "true" }, autorange: "reversed" } }, plotConfig);
  }

  function caption(item) {
    if (item.predicted && item.true && item.confidence !== undefined) {  // classification
      const top = item.predicted[0];
      return `true ${item.true.join(", ")} · predicted ${top.label} (${format(top.conf)})`;
    }
    if (item.missed) {  // instance segmentation
      return `IoU ${format(item.iou)} · ${item.matched.length} found, ${item.missed.length} missed, ${item.false.length} false`;
    }
    return `mean IoU ${format(item.iou)} · true ${item.true.join(", ")} · predicted ${item.predicted.join(", ")}`;
  }

  function viewer() {
    let dialog = document.getElementById("example-view");
    if (!dialog) {
      dialog = el("dialog", { id: "example-view", class: "example-view" },
        el("img", { alt: "" }), el("p", { class: "caption" }), el("button", { class: "secondary", text: "Close" }));
      dialog.addEventListener("click", () => dialog.close());
      document.body.append(dialog);
    }
    return dialog;
  }

  function open(item) {
    const dialog = viewer();
    dialog.querySelector("img").src = item.url;
    dialog.querySelector(".caption").textContent = `${item.image}: ${caption(item)}`;
    dialog.showModal();
  }

  async function gallery(node, url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    const listing = await response.json();
    const kind = listing.kind === "misclassified" ? "misclassified images, most confident first"
      : "images with the worst IoU first (green: found, yellow: missed, red: false)";
    node.replaceChildren(
      el("h3", { text: `What it gets wrong: ${listing.count} ${kind}${listing.count > listing.items.length ? `, the first ${listing.items.length} kept` : ""}` }),
      listing.items.length ? el("div", { class: "thumbs examples" }, listing.items.map((item) => {
        const figure = el("figure", { class: "example", title: "open larger" },
          el("img", { src: item.url, alt: item.image, loading: "lazy" }), el("figcaption", { text: caption(item) }));
        figure.addEventListener("click", () => open(item));
        return figure;
      })) : el("p", { class: "empty", text: "None: every image was right." }));
  }

  // Draws `report` into `container` (emptied first).
  function render(container, report) {
    const curves = el("div", { class: "chart pr-curves" });
    const side = el("div", { class: "chart side-chart" });
    const examples = el("div", { class: "examples-box" });
    container.replaceChildren(
      el("div", { class: "two" },
        el("div", {}, el("h3", { text: "Figures" }), metricsTable(report.metrics)),
        el("div", {}, el("h3", { text: "Precision-recall per class" }), curves)),
      el("h3", { text: "Per class" }), classTable(report),
      el("div", { class: "two" },
        el("div", {}, el("h3", { text: report.calibration ? "Reliability" : (report.confusion_matrix ? "Confusion matrix" : "") }), side)),
      examples);
    if (report.task !== "semantic_segmentation") drawCurves(curves, report);
    else curves.replaceWith(el("p", { class: "hint", text: "Semantic segmentation scores pixels: see IoU per class below." }));
    if (report.calibration) drawReliability(side, report.calibration);
    else if (report.confusion_matrix) drawConfusion(side, report.confusion_matrix, report.classes);
    else side.remove();
    gallery(examples, report.examples.url);
  }

  // The dataset tasks a model of `task` is evaluated on (trainers.evaluation.evaluation_tasks):
  // a classifier also takes instance-segmentation datasets, whose images' categories are its labels.
  const EVALUATION_TASKS = { classification: ["classification", "instance_segmentation"] };

  /* Fills `datasetSelect` with the ready datasets a model of `task` is evaluated on (selecting
     `selected` when given) and `splitSelect` with the chosen one's splits that have images, the
     first of `preferred` chosen; returns the datasets. */
  async function fillDatasetAndSplit(datasetSelect, splitSelect, task, preferred, selected) {
    const accepted = EVALUATION_TASKS[task] || [task];
    const datasets = (await Console.all("datasets/?status=ready")).filter((d) => accepted.includes(d.task));
    datasetSelect.replaceChildren(...datasets.map((d) => el("option", { value: d.id, text: `${d.name} (#${d.id}, ${d.task})` })));
    if (selected !== undefined) datasetSelect.value = String(selected);
    const fillSplits = () => {
      const dataset = datasets.find((d) => String(d.id) === datasetSelect.value);
      const splits = Object.entries(dataset?.splits || {}).filter(([, n]) => n).map(([name]) => name);
      splitSelect.replaceChildren(...splits.map((name) => el("option", { value: name, text: name })));
      splitSelect.value = preferred.find((name) => splits.includes(name)) || splits[0] || "";
    };
    datasetSelect.onchange = fillSplits;
    fillSplits();
    return datasets;
  }

  return { render, curveTraces, curveLayout, headline, format, fillDatasetAndSplit };
})();
