/* One study: its facts and best trial, its trials in a table sortable by any column, and
   Optuna's figures (best value so far, parameter importance, parallel coordinates). */
"use strict";
(() => {
  const { api, el, facts, setStatus, status, when, plotLayout, plotConfig, objectId: id } = Console;
  const ACTIVE = ["queued", "running"];
  let sortKey = "number", sortDown = false, lastTrials = [], lastDrawn = "";

  function value(trial, key) {
    return key === "number" || key === "value" || key === "state" ? trial[key] : trial.hyperparameters[key];
  }

  function drawTrials(trials, searched) {
    lastTrials = trials;
    const keys = ["number", "state", "value", ...searched];
    const sorted = [...trials].sort((a, b) => {
      const x = value(a, sortKey), y = value(b, sortKey);
      if (x === y) return a.number - b.number;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * (sortDown ? -1 : 1);
    });
    const head = el("tr", {}, keys.map((key) => {
      const th = el("th", { class: key === "value" ? "num sortable" : "sortable", "data-key": key,
        text: key + (key === sortKey ? (sortDown ? " ▼" : " ▲") : "") });
      th.addEventListener("click", () => {
        sortDown = key === sortKey ? !sortDown : key === "value";
        sortKey = key;
        drawTrials(lastTrials, searched);
      });
      return th;
    }), el("th", { text: "Job" }), el("th", { text: "Note" }));
    document.querySelector("#trials thead").replaceChildren(head);
    document.querySelector("#trials tbody").replaceChildren(...sorted.map((t) => el("tr", { "data-number": t.number },
      el("td", { text: t.number }), el("td", {}, status(t.state)),
      el("td", { class: "num value", text: t.value === null ? "" : t.value.toFixed(4) }),
      searched.map((key) => el("td", { text: JSON.stringify(t.hyperparameters[key]) })),
      el("td", {}, t.job ? el("a", { href: `/jobs/${t.job}/`, text: `job ${t.job}` }) : ""),
      el("td", { class: "note", text: t.message }))));
    document.querySelector(".empty").hidden = trials.length > 0;
  }

  function drawFigure(target, figure) {
    const node = document.getElementById(target);
    if (!figure) { node.replaceChildren(el("p", { class: "hint", text: "Shown once enough trials have completed." })); return; }
    if (node.querySelector("p.hint")) node.replaceChildren();
    Plotly.react(node, figure.data, { ...figure.layout, ...plotLayout, title: undefined }, plotConfig);
  }

  async function refresh() {
    const { ok, data: s } = await api(`studies/${id}/`);
    if (!ok) return false;
    document.getElementById("study-name").textContent = s.name;
    setStatus(document.getElementById("study-status"), s.status);
    document.getElementById("cancel-study").hidden = !ACTIVE.includes(s.status) || s.cancel_requested;
    const c = s.trial_counts, best = s.best_trial;
    facts(document.getElementById("study-facts"), [
      ["Template", s.template], ["Dataset", el("a", { href: `/datasets/${s.dataset}/`, text: `dataset ${s.dataset}` })],
      ["Objective", `${s.objective || "the trainer's monitored metric"}, ${s.direction}d`],
      ["Search", `${s.sampler} sampler, ${s.pruner} pruner, ${s.max_parallel_trials} at a time`],
      ["Trials", `${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed, ${c.running} running, of ${s.n_trials}`],
      ["Epochs trained", s.epochs_trained + (s.max_total_epochs ? ` of at most ${s.max_total_epochs}` : "")],
      ["Best trial", best ? el("span", { id: "best-trial" }, `#${best.number}: ${best.value.toFixed(4)} `,
        el("a", { href: `/jobs/${best.job}/`, text: `job ${best.job}` }), " ",
        best.model ? el("a", { href: "/models/", text: `model ${best.model} (deploy it on the Models page)` }) : "") : null],
      ["Fixed", Object.keys(s.fixed).length ? el("code", { text: Object.entries(s.fixed).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join("  ") }) : null],
      ["Created", when(s.created_at)], ["Finished", when(s.finished_at)],
    ]);
    const error = document.getElementById("study-error");
    error.hidden = !s.error;
    error.textContent = s.error;
    const trials = await api(`studies/${id}/trials/`);
    if (trials.ok) drawTrials(trials.data, Object.keys(s.search_space));
    const drawnNow = `${c.complete}/${c.pruned}/${c.failed}`;
    if (drawnNow !== lastDrawn) {  // Optuna's figures change only when a trial ends
      const plots = await api(`studies/${id}/plots/`);
      if (plots.ok) {
        lastDrawn = drawnNow;
        drawFigure("history-chart", plots.data.history);
        drawFigure("importances-chart", plots.data.importances);
        drawFigure("parallel-chart", plots.data.parallel_coordinate);
      }
    }
    return ACTIVE.includes(s.status);
  }

  document.getElementById("cancel-study").addEventListener("click", async () => {
    if (!window.confirm(`Cancel study ${id}? Its running trials' jobs are cancelled.`)) return;
    const { ok, data } = await api(`studies/${id}/cancel/`, { method: "POST" });
    if (!ok) alert(data.detail || JSON.stringify(data));
    refresh();
  });

  Console.every(2000, refresh);
})();
