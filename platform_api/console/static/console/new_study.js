/* New study: a row per hyperparameter of the template's declaration (GET /api/v1/templates/{id}/),
   each left at its default, fixed to a value, or searched within a range of its bounds
   (min, max, step, log scale) or a subset of its choices. The server decides; its errors
   are shown beside the rows they name (search_space.<name>, fixed.<name>). */
"use strict";
(() => {
  const { api, el, fillDatasetAndTemplate, showErrors, clearErrors } = Console;
  const form = document.getElementById("study-form");
  const templateSelect = document.getElementById("template");
  const datasetSelect = document.getElementById("dataset");
  let specs = [];

  const searchable = (spec) => spec.choices || spec.type === "bool" ||
    ((spec.type === "int" || spec.type === "float") && spec.min !== null && spec.max !== null && spec.min < spec.max);

  function number(name, value, attrs = {}) {
    return el("input", { type: "number", step: "any", class: `search-${name}`, value: value ?? "", ...attrs });
  }

  function valueInput(spec) {
    if (spec.choices) return el("select", { class: "fixed-value" }, spec.choices.map((c) =>
      el("option", { value: JSON.stringify(c), selected: c === spec.default, text: String(c) })));
    if (spec.type === "bool") return el("input", { type: "checkbox", class: "fixed-value", checked: spec.default === true });
    if (spec.type === "int" || spec.type === "float") return number("value", spec.default, { class: "fixed-value" });
    return el("input", { type: "text", class: "fixed-value", value: spec.default ?? "" });
  }

  function rangeInputs(spec) {
    if (spec.choices || spec.type === "bool") {
      const choices = spec.choices || [false, true];
      return el("span", { class: "search-choices" }, choices.map((c) => el("label", { class: "check" },
        el("input", { type: "checkbox", value: JSON.stringify(c), checked: true }), String(c))));
    }
    return el("span", { class: "search-range" }, "from ", number("min", spec.min), " to ", number("max", spec.max),
      " step ", number("step", spec.step, { placeholder: spec.type === "int" ? "1" : "none" }),
      el("label", { class: "check" }, el("input", { type: "checkbox", class: "search-log", checked: spec.log_scale }), "log"));
  }

  function row(spec) {
    const modes = [["default", `default (${JSON.stringify(spec.default)})`], ["fixed", "fixed"]];
    if (searchable(spec) && spec.name !== "seed") modes.push(["search", "search"]);
    const mode = el("select", { class: "mode", "aria-label": `${spec.name}: use` },
      modes.map(([value, text]) => el("option", { value, text })));
    const fixed = el("div", { class: "when-fixed", hidden: true }, valueInput(spec));
    const search = el("div", { class: "when-search", hidden: true }, searchable(spec) ? rangeInputs(spec) : null);
    mode.addEventListener("change", () => { fixed.hidden = mode.value !== "fixed"; search.hidden = mode.value !== "search"; });
    return el("tr", { "data-name": spec.name, title: spec.description },
      el("td", { text: spec.name }), el("td", {}, mode),
      el("td", {}, fixed, search,
        el("div", { class: "field-errors", "data-errors-for": `search_space.${spec.name}` }),
        el("div", { class: "field-errors", "data-errors-for": `fixed.${spec.name}` })));
  }

  function read(spec, node) {
    if (spec.choices) return JSON.parse(node.value);
    if (spec.type === "bool") return node.checked;
    if (spec.type === "int" || spec.type === "float") return node.value === "" ? null : Number(node.value);
    return node.value;
  }

  function body() {
    const fixed = {}, space = {};
    for (const spec of specs) {
      const tr = document.querySelector(`#space tr[data-name="${CSS.escape(spec.name)}"]`);
      const mode = tr.querySelector(".mode").value;
      if (mode === "fixed") fixed[spec.name] = read(spec, tr.querySelector(".fixed-value"));
      if (mode !== "search") continue;
      const narrowing = {};
      const boxes = tr.querySelectorAll(".search-choices input");
      if (boxes.length) narrowing.choices = [...boxes].filter((b) => b.checked).map((b) => JSON.parse(b.value));
      for (const key of ["min", "max", "step"]) {
        const input = tr.querySelector(`.search-${key}`);
        if (input && input.value !== "" && Number(input.value) !== spec[key]) narrowing[key] = Number(input.value);
      }
      const log = tr.querySelector(".search-log");
      if (log && log.checked !== spec.log_scale) narrowing.log = log.checked;
      space[spec.name] = narrowing;
    }
    const optional = (id) => document.getElementById(id).value === "" ? null : Number(document.getElementById(id).value);
    return {
      template: templateSelect.value, dataset: Number(datasetSelect.value), name: form.elements.name.value,
      n_trials: optional("n_trials"), max_parallel_trials: optional("max_parallel_trials"),
      sampler: document.getElementById("sampler").value, pruner: document.getElementById("pruner").value,
      max_total_epochs: optional("max_total_epochs"), fixed, search_space: space,
    };
  }

  async function showTemplate(id) {
    form.dataset.ready = "false";
    const { ok, data: t } = await api(`templates/${encodeURIComponent(id)}/`);
    if (!ok) return;
    specs = t.hyperparameters;
    document.querySelector("#space tbody").replaceChildren(...specs.map(row));
    clearErrors(form);
    form.dataset.ready = "true";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = document.getElementById("submit-study");
    button.disabled = true;
    const { ok, data } = await api("studies/", { method: "POST", json: body() });
    button.disabled = false;
    if (ok) window.location.href = `/studies/${data.id}/`;
    else showErrors(form, data);
  });

  (async () => {
    await fillDatasetAndTemplate(datasetSelect, templateSelect, { fitting: true });
    templateSelect.addEventListener("change", () => showTemplate(templateSelect.value));
    if (templateSelect.value) await showTemplate(templateSelect.value);
  })();
})();
