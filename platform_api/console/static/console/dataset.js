/* One dataset: status while it imports, then its classes, counts and sample thumbnails. */
"use strict";
(() => {
  const { api, confirmDelete, el, facts, setStatus, when, plotLayout, plotConfig, objectId: id } = Console;
  let shown = false;

  async function refresh() {
    const { ok, data: d } = await api(`datasets/${id}/`);
    if (!ok) return false;
    document.getElementById("dataset-name").textContent = d.name;
    setStatus(document.getElementById("dataset-status"), d.status);
    document.getElementById("delete-dataset").hidden = d.status === "importing";
    const splits = Object.entries(d.splits).map(([k, v]) => `${k} ${v}`).join(" · ");
    facts(document.getElementById("dataset-facts"), [
      ["Format", d.format], ["Task", d.task], ["Images", d.num_images || null], ["Splits", splits],
      ["Classes", d.classes.length ? `${d.classes.length}: ${d.classes.join(", ")}` : null], ["Uploaded", when(d.created_at)],
    ]);
    const error = document.getElementById("import-error");
    error.hidden = !d.error;
    error.textContent = d.error ? `Import failed: ${d.error}` : "";
    if (d.status === "ready" && !shown) {
      shown = true;
      document.getElementById("train-link").hidden = false;
      document.getElementById("study-link").hidden = false;
      await showContents(d);
    }
    return d.status === "importing";
  }

  async function showContents(d) {
    const { ok, data: s } = await api(`datasets/${id}/summary/`);
    if (!ok) return;
    document.getElementById("counts-card").hidden = false;
    document.getElementById("count-unit").textContent = `(${s.count_unit})`;
    const traces = Object.entries(s.class_counts).map(([split, counts]) => ({
      type: "bar", name: split, x: Object.keys(counts), y: Object.values(counts),
      text: Object.values(counts).map(String), textposition: "auto",
    }));
    Plotly.newPlot("counts-chart", traces, { ...plotLayout, barmode: "group", yaxis: { title: { text: s.count_unit } } }, plotConfig);

    document.getElementById("samples-card").hidden = false;
    if (d.task !== "classification") {
      document.getElementById("legend").replaceChildren(...Object.entries(s.class_colours).map(([name, colour]) =>
        el("span", {}, el("span", { class: "swatch", style: `background:${colour}` }), name)));
    }
    document.getElementById("samples").replaceChildren(...s.samples.map((sample) => el("figure", {},
      el("img", { src: `/api/v1/datasets/${id}/samples/${sample.split}/${sample.index}/`, alt: `${sample.split} #${sample.index}`, loading: "lazy" }),
      el("figcaption", { text: `${sample.split} #${sample.index}${sample.labels.length ? ": " + sample.labels.join(", ") : ""}` }))));
  }

  document.getElementById("delete-dataset").addEventListener("click", async () => {
    const question = `Delete dataset ${id} and its images? Its ended jobs go with it; models trained on it must be ` +
                     "deleted first. This cannot be undone.";
    if (await confirmDelete(`datasets/${id}/`, question, document.getElementById("delete-error"))) {
      window.location.href = "/datasets/";
    }
  });

  Console.every(1500, refresh);
})();
