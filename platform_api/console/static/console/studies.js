/* Studies: the user's hyperparameter studies with their trial counts and best value. */
"use strict";
(() => {
  const { el, all, when, status } = Console;

  function trials(s) {
    const c = s.trial_counts;
    return `${c.complete + c.pruned + c.failed + c.running} of ${s.n_trials}` +
      (c.running ? ` (${c.running} running)` : "") + (c.pruned ? `, ${c.pruned} pruned` : "");
  }

  async function refresh() {
    const rows = await all("studies/");
    document.querySelector("#studies tbody").replaceChildren(...rows.map((s) => el("tr", {},
      el("td", { text: s.id }), el("td", {}, el("a", { href: `/studies/${s.id}/`, text: s.name || `study ${s.id}` })),
      el("td", { text: s.template }), el("td", {}, el("a", { href: `/datasets/${s.dataset}/`, text: s.dataset })),
      el("td", {}, status(s.status)), el("td", { text: trials(s) }),
      el("td", { class: "num", text: s.best_trial ? s.best_trial.value.toFixed(4) : "" }),
      el("td", { text: when(s.created_at) }))));
    document.querySelector(".empty").hidden = rows.length > 0;
    return true;
  }

  Console.every(3000, refresh);
})();
