/* Models: their best epoch's metrics side by side (the best of each column in bold), with
   deploy, stop and try buttons for their deployments. */
"use strict";
(() => {
  const { api, all, el, status, isRate } = Console;
  const LIVE = ["pending", "ready"];

  function scalarKeys(models) {
    const keys = [];
    for (const m of models) for (const [k, v] of Object.entries(m.metrics)) if (isRate(k, v) && !keys.includes(k)) keys.push(k);
    return keys;
  }

  function format(value) {
    if (typeof value !== "number") return "";
    return Number.isInteger(value) ? String(value) : value.toFixed(4);
  }

  async function act(path, button) {
    button.disabled = true;
    const { ok, data } = await api(path, { method: "POST" });
    if (!ok) alert(data.detail || JSON.stringify(data));
    await refresh();
  }

  function controls(model, deployment) {
    if (!deployment || !LIVE.includes(deployment.status)) {
      const deploy = el("button", { class: "deploy", "data-model": model.id, text: "Deploy" });
      deploy.addEventListener("click", () => act(`models/${model.id}/deploy/`, deploy));
      return [deployment ? status(deployment.status) : null, " ", deploy];
    }
    const stop = el("button", { class: "danger stop", text: "Stop" });
    stop.addEventListener("click", () => act(`deployments/${deployment.id}/stop/`, stop));
    return [status(deployment.status), " ",
            deployment.status === "ready" ? el("a", { class: "button try", href: `/deployments/${deployment.id}/try/`, text: "Try it" }) : null,
            " ", stop];
  }

  async function refresh() {
    const [models, deployments] = await Promise.all([all("models/"), all("deployments/")]);
    const latest = new Map();  // model id -> its newest deployment (the list is newest first)
    for (const d of deployments) if (!latest.has(d.model)) latest.set(d.model, d);
    const keys = scalarKeys(models);
    const best = Object.fromEntries(keys.map((k) => [k, Math.max(...models.map((m) => m.metrics[k]).filter((v) => typeof v === "number"))]));
    document.querySelector("#models thead").replaceChildren(el("tr", {},
      ["Model", "Job", "Template", "Dataset", "Classes", ...keys, "Deployment"].map((h) => el("th", { text: h }))));
    document.querySelector("#models tbody").replaceChildren(...models.map((m) => el("tr", { "data-model": m.id },
      el("td", { text: `#${m.id}` }), el("td", {}, el("a", { href: `/jobs/${m.job}/`, text: `job ${m.job}` })),
      el("td", { text: m.template }), el("td", {}, el("a", { href: `/datasets/${m.dataset}/`, text: m.dataset })),
      el("td", { text: m.classes.length }),
      keys.map((k) => el("td", { class: `num${models.length > 1 && m.metrics[k] === best[k] ? " best" : ""}`, text: format(m.metrics[k]) })),
      el("td", {}, controls(m, latest.get(m.id))))));
    document.querySelector(".empty").hidden = models.length > 0;
    return true;
  }

  Console.every(2000, refresh);
})();
