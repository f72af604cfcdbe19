/* New job: the form is generated from the template's hyperparameter declarations
   (GET /api/v1/templates/{id}/): numbers with their min, max and step, selects for
   choices, descriptions as help. The browser's own checks are off (novalidate): the
   server decides, and its field errors are shown beside the fields. Before submit, the
   form shows what the job would cost (POST /api/v1/jobs/estimate/). */
"use strict";
(() => {
  const { api, el, fillDatasetAndTemplate, showErrors, clearErrors, duration } = Console;
  const form = document.getElementById("job-form");
  const templateSelect = document.getElementById("template");
  const datasetSelect = document.getElementById("dataset");
  const precisionSelect = document.getElementById("precision");
  let specs = [];

  function rangeText(spec) {
    const parts = [];
    if (spec.min !== null || spec.max !== null) parts.push(`${spec.min ?? "…"} to ${spec.max ?? "…"}`);
    if (spec.step !== null) parts.push(`step ${spec.step}`);
    if (spec.log_scale) parts.push("log scale");
    return parts.join(", ");
  }

  function input(spec) {
    const common = { id: `hp-${spec.name}`, name: spec.name, "data-field": `hyperparameters.${spec.name}` };
    if (spec.choices) {
      return el("select", common, spec.choices.map((choice) =>
        el("option", { value: JSON.stringify(choice), selected: choice === spec.default, text: String(choice) })));
    }
    if (spec.type === "bool") return el("input", { ...common, type: "checkbox", checked: spec.default === true });
    if (spec.type === "int" || spec.type === "float") {
      return el("input", { ...common, type: "number", min: spec.min, max: spec.max,
                           step: spec.step ?? (spec.type === "int" ? 1 : "any"),
                           value: spec.default ?? "", placeholder: spec.default === null ? "none" : null });
    }
    return el("input", { ...common, type: "text", value: spec.default ?? "" });
  }

  function field(spec) {
    const control = input(spec);
    const range = rangeText(spec);
    const label = spec.type === "bool"
      ? el("label", { class: "check", for: control.id }, control, spec.name)
      : el("label", { for: control.id }, el("span", {}, spec.name, range ? el("span", { class: "range", text: ` (${range})` }) : null), control);
    return el("div", { class: "hp" }, label,
      el("div", { class: "field-errors", "data-errors-for": `hyperparameters.${spec.name}` }),
      el("div", { class: "help", text: spec.description }));
  }

  // What the person set: values that differ from the default (the server fills the rest).
  function chosen() {
    const values = {};
    for (const spec of specs) {
      const control = document.getElementById(`hp-${spec.name}`);
      let value;
      if (spec.choices) value = JSON.parse(control.value);
      else if (spec.type === "bool") value = control.checked;
      else if (spec.type === "int" || spec.type === "float") {
        if (control.value === "") continue;  // left empty: the default
        value = Number(control.value);
      } else value = control.value;
      if (value !== spec.default) values[spec.name] = value;
    }
    return values;
  }

  async function showTemplate(id) {
    form.dataset.ready = "false";  // until the fields of this template are built
    const { ok, data: t } = await api(`templates/${encodeURIComponent(id)}/`);
    if (!ok) return;
    specs = t.hyperparameters;
    document.getElementById("template-description").textContent = t.description;
    precisionSelect.replaceChildren(...t.precisions.map((p) => el("option", { value: p, text: p })));
    document.getElementById("hyperparameters").replaceChildren(...specs.map(field));
    template = t;
    checkPair();
    clearErrors(form);
    form.dataset.ready = "true";
    costSoon();
  }

  // The dataset stays the one the person chose; a template that cannot train on it is said so.
  let template = null;
  let pairFits = true;
  function checkPair() {
    const notice = document.getElementById("dataset-mismatch");
    const option = datasetSelect.selectedOptions[0];
    const fits = !template || !option || template.dataset_tasks.includes(option.dataset.task);
    notice.hidden = fits;
    notice.textContent = fits ? "" : `${template.name} trains on ${template.dataset_tasks.join(" or ")} data; ` +
      `this dataset is ${option.dataset.task}. Choose a template for it, or another dataset.`;
    document.getElementById("submit-job").disabled = !fits;
    pairFits = fits;
  }
  datasetSelect.addEventListener("change", checkPair);  // before the form's own listener asks for the cost

  // The cost of the job as the form stands: steps, and a time once a job like it has run.
  let costAsked = 0;
  let costTimer = null;
  async function showCost() {
    const asked = ++costAsked;
    const note = document.getElementById("job-cost");
    if (!template || !datasetSelect.value) { note.hidden = true; return; }
    // Values outside their own field's bounds, or a template that cannot train on the dataset,
    // would only be refused: ask the server once they could be taken.
    const controls = [...document.querySelectorAll("#hyperparameters input, #hyperparameters select, #devices")];
    if (!pairFits || controls.some((c) => !c.checkValidity())) {
      note.hidden = false;
      note.textContent = "The cost shows once the values are valid.";
      return;
    }
    const devices = Number(form.elements.devices.value);
    const { ok, data } = await api("jobs/estimate/", { method: "POST", json: {
      template: templateSelect.value, dataset: Number(datasetSelect.value), precision: precisionSelect.value,
      devices, hyperparameters: chosen() } });
    if (asked !== costAsked) return;  // the form changed meanwhile: a newer answer is coming
    note.hidden = false;
    if (!ok) { note.textContent = "The cost shows once the values are valid."; return; }
    const n = (value) => value.toLocaleString("en");
    const steps = `About ${n(data.steps)} optimizer steps: ${n(data.epochs)} epochs of ${n(data.steps_per_epoch)} ` +
                  `steps of ${n(data.batch_size)} images${devices > 1 ? ` on each of ${devices} devices` : ""} ` +
                  `(${n(data.train_images)} training images).`;
    const time = data.seconds === null
      ? ` No ${template.id} job with this backbone has finished here yet, so there is no time estimate.`
      : ` Roughly ${duration(data.seconds)} at the speed of the last ${data.measured_jobs === 1 ? "such job" :
          `${data.measured_jobs} such jobs`} here.`;
    note.textContent = steps + time;
  }
  function costSoon() {
    clearTimeout(costTimer);
    costTimer = setTimeout(showCost, 250);
  }
  form.addEventListener("input", costSoon);
  form.addEventListener("change", costSoon);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = document.getElementById("submit-job");
    button.disabled = true;
    const { ok, data } = await api("jobs/", { method: "POST", json: {
      template: templateSelect.value, dataset: Number(datasetSelect.value), name: form.elements.name.value,
      precision: precisionSelect.value, devices: Number(form.elements.devices.value), hyperparameters: chosen(),
    } });
    button.disabled = false;
    if (ok) window.location.href = `/jobs/${data.id}/`;
    else showErrors(form, data);
  });

  (async () => {
    await fillDatasetAndTemplate(datasetSelect, templateSelect);
    templateSelect.addEventListener("change", () => showTemplate(templateSelect.value));
    if (templateSelect.value) await showTemplate(templateSelect.value);
  })();
})();
