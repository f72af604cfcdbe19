/* Shared by every console page: calls to the REST API with the signed-in session, the
   server's field errors shown beside their fields, and small formatting helpers. */
"use strict";

const Console = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  // A form that ends something (a token, say) asks first: <form data-confirm="...">.
  document.addEventListener("submit", (event) => {
    const question = event.target.dataset?.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  async function api(path, { method = "GET", json, form } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = csrf;
    let body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (form !== undefined) body = form;
    const response = await fetch(`/api/v1/${path}`, { method, headers, body, credentials: "same-origin" });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    return { ok: response.ok, status: response.status, data };
  }

  /* DELETE after the person confirms `question`; true once it is gone (a 404: someone else
     deleted it first). A refusal (409: a model still deployed, a job still running) is shown
     in `errorNode`, in the server's words. */
  async function confirmDelete(path, question, errorNode) {
    if (!window.confirm(question)) return false;
    const { ok, status, data } = await api(path, { method: "DELETE" });
    if (ok || status === 404) return true;
    errorNode.textContent = data?.detail || JSON.stringify(data);
    errorNode.hidden = false;
    return false;
  }

  // The template that suits a task on any machine: the platform's own trainers first (small
  // defaults that train on a CPU), then the first active template for the task.
  function suitedTemplate(offered, task) {
    const preferred = { classification: "fai-cls", instance_segmentation: "fai-mf", semantic_segmentation: "fai-mf" };
    const fitting = offered.filter((t) => t.dataset_tasks.includes(task));
    return fitting.find((t) => t.id === preferred[task]) || fitting[0];
  }

  /* A form's dataset and template choices (new job, new study): the ready datasets, the one
     named by ?dataset= chosen; the active templates (with `fitting`, only those that train on
     that dataset's task), the one that suits its task chosen. */
  async function fillDatasetAndTemplate(datasetSelect, templateSelect, { fitting = false } = {}) {
    const [templates, datasets] = await Promise.all([all("templates/"), all("datasets/?status=ready")]);
    const wanted = new URLSearchParams(window.location.search).get("dataset");
    datasetSelect.replaceChildren(...datasets.map((d) => el("option", { value: d.id, "data-task": d.task,
      selected: String(d.id) === wanted, text: `${d.name} (#${d.id}, ${d.task}, ${d.num_images} images)` })));
    const task = (datasets.find((d) => String(d.id) === wanted) || datasets[0])?.task;
    const offered = templates.filter((t) => t.is_active && (!fitting || !task || t.dataset_tasks.includes(task)));
    const suited = task !== undefined ? suitedTemplate(offered, task) : undefined;
    templateSelect.replaceChildren(...offered.map((t) => el("option", { value: t.id, text: `${t.name} (${t.id})`,
      selected: suited !== undefined && t.id === suited.id })));
  }

  // Every page of a list endpoint (LimitOffsetPagination).
  async function all(path) {
    const rows = [];
    let offset = 0;
    for (;;) {
      const sep = path.includes("?") ? "&" : "?";
      const { ok, data } = await api(`${path}${sep}limit=100&offset=${offset}`);
      if (!ok) throw new Error(`GET ${path}: ${JSON.stringify(data)}`);
      rows.push(...data.results);
      if (!data.next) return rows;
      offset += data.results.length;
    }
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function messagesOf(value) {
    if (Array.isArray(value)) return value.map(String);
    if (value && typeof value === "object") return Object.entries(value).map(([k, v]) => `${k}: ${messagesOf(v).join(" ")}`);
    return [String(value)];
  }

  /* Shows a 400 body ({field: [messages]} or {field: {subfield: [messages]}}) beside the
     fields: [data-errors-for="field"] or [data-errors-for="field.subfield"]; a message whose
     place is missing goes to non_field_errors; {"detail"} bodies too. */
  function showErrors(root, body) {
    clearErrors(root);
    const place = (key) => root.querySelector(`[data-errors-for="${CSS.escape(key)}"]`);
    const put = (key, messages) => {
      const target = place(key) || place("non_field_errors");
      if (!target) { alert(messages.join("\n")); return; }
      for (const message of messages) target.append(el("p", { class: "error", role: "alert", text: message }));
      const input = root.querySelector(`[data-field="${CSS.escape(key)}"]`);
      if (input) input.classList.add("invalid");
    };
    if (!body || typeof body !== "object") { put("non_field_errors", [String(body)]); return; }
    if ("detail" in body && !Array.isArray(body.detail)) { put("non_field_errors", [body.detail]); return; }
    for (const [field, value] of Object.entries(body)) {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [sub, messages] of Object.entries(value)) {
          place(`${field}.${sub}`) ? put(`${field}.${sub}`, messagesOf(messages)) : put(field, [`${sub}: ${messagesOf(messages).join(" ")}`]);
        }
      } else {
        put(field, messagesOf(value));
      }
    }
  }

  function clearErrors(root) {
    root.querySelectorAll("[data-errors-for]").forEach((node) => node.replaceChildren());
    root.querySelectorAll(".invalid").forEach((node) => node.classList.remove("invalid"));
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    seconds = Math.round(seconds);
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
  }

  function status(value) {
    return el("span", { class: `status ${value}`, text: value });
  }

  function setStatus(node, value) {
    node.className = `status ${value}`;
    node.textContent = value;
  }

  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
  }

  function progress(node, percent, label) {
    node.hidden = false;
    node.querySelector(".bar").style.width = `${Math.max(0, Math.min(100, percent))}%`;
    node.querySelector(".label").textContent = label;
  }

  // Repeats fn every `ms` until it returns false; the page's own loop, no overlap.
  function every(ms, fn) {
    const tick = async () => {
      let again = true;
      try { again = await fn(); } catch (error) { console.warn(error); }
      if (again !== false) setTimeout(tick, ms);
    };
    tick();
  }

  const plotLayout = { margin: { l: 50, r: 20, t: 30, b: 90 }, font: { family: "system-ui, sans-serif", size: 12 },
                       legend: { orientation: "h", y: -0.3 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff" };

  // Metrics that are one rate per evaluation: not counts, tables or the matrix.
  function isRate(key, value) {
    return typeof value === "number" && !key.startsWith("num_") && !["best_epoch", "epochs_run"].includes(key);
  }
  const plotConfig = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["sendDataToCloud"] };

  return { api, all, confirmDelete, fillDatasetAndTemplate, el, showErrors, clearErrors, when, duration, status, setStatus, facts, progress, every,
           plotLayout, plotConfig, isRate, objectId: Number(document.body.dataset.objectId) || null };
})();
