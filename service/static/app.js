// The "try it" page: sends the article to POST /v1/summarize and shows the summary with its
// grounding. User and server text only ever reaches the page through textContent and
// createTextNode, never as HTML.

const $ = (id) => document.getElementById(id);

const view = {
  form: $("summarize-form"),
  input: $("article-input"),
  inputLabel: $("article-label"),
  url: $("url-input"),
  urlLabel: $("url-label"),
  urlMode: $("url-mode"),
  style: $("style"),
  submit: $("submit"),
  status: $("status"),
  engineInfo: $("engine-info"),
  error: $("error"),
  results: $("results"),
  summaryPanel: $("summary-panel"),
  shortSection: $("short-section"),
  short: $("short"),
  bulletsSection: $("bullets-section"),
  bullets: $("bullets"),
  warnings: $("warnings"),
  meta: $("meta"),
  article: $("article"),
};

const INPUT_LABELS = {
  text: ["Article text", "Paste a news article (plain text; scraped pages are fine)"],
  html: ["Article HTML", "Paste the page's HTML source"],
};

// A warning such as "bullet 2: support 0.31 is below 0.45; ..." names a low-support item.
const LOW_SUPPORT_WARNING = /^(short|bullet (\d+)): support /;

const state = {
  supportThreshold: null, // from GET /v1/info, when the engine reports one
  pinned: null, // id of the selected summary item
  preview: null, // id of the hovered or focused summary item
};

// -- service info ---------------------------------------------------------------------------

async function loadInfo() {
  try {
    const response = await fetch("/v1/info", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const info = await response.json();
    const engine = info.engine || {};
    state.supportThreshold = typeof engine.support_threshold === "number" ? engine.support_threshold : null;
    view.urlMode.hidden = !(info.limits && info.limits.fetch_urls === true);
    view.engineInfo.textContent = `Engine: ${engine.engine || "unknown"} · ${engine.model || "no model name"} · v${info.version}`;
  } catch (error) {
    view.engineInfo.textContent = `Service information unavailable (${error.message}).`;
  }
}

// -- input ----------------------------------------------------------------------------------

function inputMode() {
  return view.form.elements.mode.value;
}

function showInputMode() {
  const mode = inputMode();
  const isUrl = mode === "url";
  view.input.hidden = view.inputLabel.hidden = isUrl;
  view.url.hidden = view.urlLabel.hidden = !isUrl;
  if (!isUrl) [view.inputLabel.textContent, view.input.placeholder] = INPUT_LABELS[mode];
}

/** The request body for the chosen mode: `text`, `html` or `url` with the style. */
function requestBody(mode) {
  const body = { style: view.style.value };
  if (mode === "url") body.url = view.url.value.trim();
  else body[mode] = view.input.value;
  return body;
}

// -- summarize ------------------------------------------------------------------------------

async function summarize(event) {
  event.preventDefault();
  const mode = inputMode();
  const body = requestBody(mode);
  setBusy(true);
  clearResults();
  try {
    const response = await fetch("/v1/summarize", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await readJson(response);
    if (!response.ok) {
      showError(apiErrorMessage(response, answer));
      if (mode === "text") showArticle(body.text, []); // what was sent, as plain text
      return;
    }
    showSummary(answer, mode === "text" ? body.text : null);
  } catch (error) {
    showError(`Could not reach the service: ${error.message}`);
  } finally {
    setBusy(false);
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function apiErrorMessage(response, answer) {
  const error = answer && answer.error;
  if (error && error.message) return `${error.message} (${error.code}, HTTP ${response.status})`;
  return `The service answered HTTP ${response.status} ${response.statusText}.`;
}

function setBusy(busy) {
  view.submit.disabled = busy;
  view.status.textContent = busy ? "Summarizing…" : "";
}

function clearResults() {
  view.error.hidden = true;
  view.error.textContent = "";
  view.results.hidden = true;
  view.summaryPanel.hidden = true;
  state.pinned = state.preview = null;
}

function showError(message) {
  view.error.textContent = message;
  view.error.hidden = false;
}

// -- results --------------------------------------------------------------------------------

/** Summary items (short, then bullets) with their sources and support. */
function summaryItems(answer) {
  const grounding = answer.grounding || {};
  const items = [];
  if (typeof answer.short === "string") {
    items.push({ id: "short", label: "short", text: answer.short, ...groundingOf(grounding.short) });
  }
  (answer.bullets || []).forEach((text, index) => {
    const grounded = groundingOf((grounding.bullets || [])[index]);
    items.push({ id: `bullet-${index + 1}`, label: `bullet ${index + 1}`, text, ...grounded });
  });
  const flagged = flaggedLabels(answer.warnings || []);
  for (const item of items) item.lowSupport = flagged.has(item.label) || isBelowThreshold(item.support);
  return items;
}

function groundingOf(entry) {
  return { sources: (entry && entry.sources) || [], support: entry ? entry.support : null };
}

function flaggedLabels(warnings) {
  const labels = new Set();
  for (const warning of warnings) {
    const match = LOW_SUPPORT_WARNING.exec(warning);
    if (match) labels.add(match[1]);
  }
  return labels;
}

function isBelowThreshold(support) {
  return state.supportThreshold !== null && typeof support === "number" && support < state.supportThreshold;
}

/** Render the answer; offsets point into `answer.text` when the server extracted it, else into the pasted text. */
function showSummary(answer, pastedText) {
  const items = summaryItems(answer);
  const short = items.filter((item) => item.id === "short");
  const bullets = items.filter((item) => item.id !== "short");
  view.short.replaceChildren(...short.map(itemButton));
  view.bullets.replaceChildren(...bullets.map((item) => listItem(itemButton(item))));
  view.shortSection.hidden = short.length === 0;
  view.bulletsSection.hidden = !("bullets" in answer);
  showWarnings(answer.warnings || []);
  view.meta.replaceChildren(...metaLine(answer));
  view.summaryPanel.hidden = false;
  const articleText = typeof answer.text === "string" ? answer.text : pastedText;
  if (articleText === null) {
    view.article.replaceChildren(document.createTextNode("The service did not return the article text."));
    view.results.hidden = false;
  } else {
    showArticle(articleText, items);
  }
}

function itemButton(item) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "grounded";
  button.dataset.item = item.id;
  button.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-controls", "article");
  const text = document.createElement("span");
  text.className = "item-text";
  text.textContent = item.text;
  button.append(text);
  if (item.lowSupport) button.append(lowSupportBadge(item.support));
  if (item.sources.length === 0) button.title = "No source span was returned for this sentence.";
  button.addEventListener("mouseenter", () => setPreview(item.id));
  button.addEventListener("mouseleave", () => setPreview(null));
  button.addEventListener("focus", () => setPreview(item.id));
  button.addEventListener("blur", () => setPreview(null));
  button.addEventListener("click", () => togglePinned(item.id));
  return button;
}

function lowSupportBadge(support) {
  const badge = document.createElement("span");
  badge.className = "badge low-support";
  const score = typeof support === "number" ? ` ${support.toFixed(2)}` : "";
  badge.textContent = `low support${score}`;
  badge.title = "The article may not state this; check the highlighted source.";
  return badge;
}

function listItem(child) {
  const li = document.createElement("li");
  li.append(child);
  return li;
}

function showWarnings(warnings) {
  view.warnings.replaceChildren(...warnings.map((warning) => listItem(document.createTextNode(warning))));
  view.warnings.hidden = warnings.length === 0;
}

function metaLine(answer) {
  const stats = answer.stats || {};
  const engine = answer.engine || {};
  const parts = [];
  if (typeof stats.latency_ms === "number") parts.push(["Latency", `${Math.round(stats.latency_ms)} ms`]);
  parts.push(["Engine", [engine.name, engine.model].filter(Boolean).join(" · ") || "unknown"]);
  if (typeof stats.sentences === "number") parts.push(["Sentences", String(stats.sentences)]);
  if (Array.isArray(stats.removed) && stats.removed.length) parts.push(["Debris removed", `${stats.removed.length} lines`]);
  return parts.map(([name, value]) => {
    const span = document.createElement("span");
    const label = document.createElement("strong");
    label.textContent = `${name}: `;
    span.append(label, document.createTextNode(value));
    return span;
  });
}

// -- article with source spans --------------------------------------------------------------

/** UTF-16 index of every code point boundary: the API's offsets count code points, JS strings count UTF-16 units. */
function utf16Offsets(text) {
  const offsets = [0];
  let unit = 0;
  for (const character of text) {
    unit += character.length;
    offsets.push(unit);
  }
  return offsets;
}

/** Cut [0, length) at every source boundary; each piece lists the items whose sources cover it. */
function sourcePieces(items, length) {
  const spans = [];
  const cuts = new Set([0, length]);
  for (const item of items) {
    for (const source of item.sources) {
      const start = Math.max(0, Math.min(length, source.start));
      const end = Math.max(start, Math.min(length, source.end));
      if (start === end) continue;
      spans.push({ id: item.id, start, end });
      cuts.add(start).add(end);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  return points.slice(1).map((end, index) => {
    const start = points[index];
    const owners = spans.filter((span) => span.start <= start && end <= span.end).map((span) => span.id);
    return { start, end, owners: [...new Set(owners)] };
  });
}

function showArticle(text, items) {
  const offsets = utf16Offsets(text);
  const nodes = sourcePieces(items, offsets.length - 1).map(({ start, end, owners }) => {
    const content = text.slice(offsets[start], offsets[end]);
    if (owners.length === 0) return document.createTextNode(content);
    const mark = document.createElement("mark");
    mark.className = "source";
    mark.dataset.owners = owners.join(" ");
    mark.dataset.start = String(start);
    mark.dataset.end = String(end);
    mark.textContent = content;
    return mark;
  });
  view.article.replaceChildren(...nodes);
  view.results.hidden = false;
}

// -- highlighting ---------------------------------------------------------------------------

function setPreview(id) {
  state.preview = id;
  highlight(false);
}

function togglePinned(id) {
  state.pinned = state.pinned === id ? null : id;
  for (const button of view.summaryPanel.querySelectorAll("button.grounded")) {
    button.setAttribute("aria-pressed", String(button.dataset.item === state.pinned));
  }
  highlight(true);
}

/** Highlight the sources of the previewed item, else of the pinned one. */
function highlight(scroll) {
  const active = state.preview ?? state.pinned;
  for (const button of view.summaryPanel.querySelectorAll("button.grounded")) {
    button.classList.toggle("active", button.dataset.item === active);
  }
  let first = null;
  for (const mark of view.article.querySelectorAll("mark.source")) {
    const on = active !== null && mark.dataset.owners.split(" ").includes(active);
    mark.classList.toggle("active", on);
    if (on && first === null) first = mark;
  }
  if (scroll && first) first.scrollIntoView({ block: "nearest" });
}

// -- wiring ---------------------------------------------------------------------------------

view.form.addEventListener("submit", summarize);
view.form.addEventListener("change", (event) => {
  if (event.target.name === "mode") showInputMode();
});
view.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) view.form.requestSubmit();
});
showInputMode();
loadInfo();
