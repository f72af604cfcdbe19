/* Jobs: the user's training jobs with their progress. */
"use strict";
(() => {
  const { el, all, when, status } = Console;

  async function refresh() {
    const rows = await all("jobs/");
    document.querySelector("#jobs tbody").replaceChildren(...rows.map((j) => el("tr", {},
      el("td", { text: j.id }), el("td", {}, el("a", { href: `/jobs/${j.id}/`, text: j.name || `job ${j.id}` })),
      el("td", { text: j.template }), el("td", {}, el("a", { href: `/datasets/${j.dataset}/`, text: j.dataset })),
      el("td", {}, status(j.status)), el("td", { class: "num", text: `${Math.round(j.progress.percent || 0)}%` }),
      el("td", {}, j.model ? el("a", { href: "/models/", text: `model ${j.model}` }) : ""),
      el("td", { text: when(j.created_at) }))));
    document.querySelector(".empty").hidden = rows.length > 0;
    return true;
  }

  Console.every(3000, refresh);
})();
