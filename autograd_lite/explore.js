// The explorer's view (anywidget): an ES module, loaded as is (no build step).
function fmt(v) {
  if (v === null || v === undefined) return "None";
  if (typeof v === "number") return Number(v.toPrecision(4)).toString();
  if (typeof v === "boolean") return String(v);
  if (!Array.isArray(v) && v.shape) return "(" + v.shape.join(", ") + ") tensor";  // kept as its shape
  const flat = [].concat(...[v].flat(Infinity));
  if (flat.length > 12) return "(" + shape(v).join(", ") + ") tensor";
  return "[" + flat.map(fmt).join(", ") + "]";
}
function shape(v) { const s = []; while (Array.isArray(v)) { s.push(v.length); v = v[0]; } return s; }
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function render({ model, el: root }) {
  const box = el("div", { class: "ale-explore", "data-testid": "explore" });
  const controls = el("div", { class: "ale-controls" });
  const buttons = {};
  for (const [id, label, title] of [["start", "« start", "before the pass"],
      ["back", "‹ back", "one step back"], ["next", "next ›", "one step on"],
      ["end", "run to end »", "after the last step"]]) {
    const b = el("button", { "data-testid": "explore-" + id, title }, label);
    buttons[id] = b; controls.appendChild(b);
  }
  const counter = el("span", { class: "ale-counter", "data-testid": "explore-counter" });
  controls.appendChild(counter);
  const body = el("div", { class: "ale-body" });
  const picture = el("div", { class: "ale-picture", "data-testid": "explore-picture" });
  picture.innerHTML = model.get("svg");
  const panel = el("div", { class: "ale-panel", "data-testid": "explore-panel" });
  body.append(picture, panel);
  box.append(controls, body);
  root.appendChild(box);

  const go = (k) => { model.set("index", k); model.save_changes(); };
  buttons.start.onclick = () => go(0);
  buttons.back.onclick = () => go(Math.max(0, model.get("index") - 1));
  buttons.next.onclick = () => go(Math.min(model.get("steps").length, model.get("index") + 1));
  buttons.end.onclick = () => go(model.get("steps").length);

  function paint() {
    const steps = model.get("steps"), graph = model.get("graph");
    const n = steps.length, k = Math.max(0, Math.min(n, model.get("index")));
    counter.textContent = "step " + k + " of " + n;
    counter.setAttribute("data-step", k); counter.setAttribute("data-total", n);
    buttons.start.disabled = buttons.back.disabled = k === 0;
    buttons.next.disabled = buttons.end.disabled = k === n;
    const stepOf = {};  // vertex -> the step it ran in
    steps.forEach((s) => { stepOf[s.vertex] = s.index; });
    for (const v of graph.vertices) {
      const g = picture.querySelector("#v" + v.id);
      if (!g) continue;
      const ran = stepOf[v.id];
      g.classList.toggle("ale-current", ran === k);
      g.classList.toggle("ale-visited", ran !== undefined && ran < k);
      const line = graph.grad_line[String(v.id)];
      if (line !== undefined) {
        const texts = g.querySelectorAll("text");
        if (texts[line]) texts[line].classList.toggle("ale-hidden", !(ran !== undefined && ran <= k));
      }
    }
    for (const [id, consumer] of Object.entries(graph.edge_step_vertex)) {
      const g = picture.querySelector("#" + id);
      if (!g) continue;
      const sent = consumer === -1 ? true : (stepOf[consumer] !== undefined && stepOf[consumer] <= k);
      g.classList.toggle("ale-pending", !sent);
      g.classList.toggle("ale-sent", sent && consumer !== -1);
    }
    panel.replaceChildren();
    if (k === 0) {
      panel.appendChild(el("h4", {}, "Before the pass"));
      panel.appendChild(el("div", { "data-testid": "explore-start-text" },
        graph.title + " receives the gradient " + graph.start_grad + "; press next ›."));
    } else {
      const s = steps[k - 1];
      panel.appendChild(el("h4", { "data-testid": "explore-node", "data-node": s.node,
        "data-vertex": s.vertex }, "Step " + k + ": " + s.name));
      const gin = el("div", { "data-testid": "explore-grad-in", "data-grad": JSON.stringify(s.grad_in) });
      gin.append("grad arriving: ", el("span", { class: "ale-value" }, fmt(s.grad_in)));
      panel.appendChild(gin);
      if (s.contributions.length > 1) {
        const perOutput = s.contributions.some((c) => c.output_nr);
        panel.appendChild(el("div", {}, perOutput ? "one gradient per output:"
          : "the sum of " + s.contributions.length + " paths:"));
        const ul = el("ul", {});
        for (const c of s.contributions) {
          ul.appendChild(el("li", { "data-testid": "explore-contribution", "data-from": c.from,
            "data-grad": JSON.stringify(c.grad) }, (perOutput ? "output " + c.output_nr + ": " : "") + fmt(c.grad) + "  from " + c.from_name));
        }
        panel.appendChild(ul);
      }
      if (s.inputs.length) {
        panel.appendChild(el("div", {}, "sends to its inputs:"));
        const ul = el("ul", {});
        for (const i of s.inputs) {
          const li = el("li", { "data-testid": "explore-input", "data-to": i.to,
            "data-to-name": i.to_name, "data-input-nr": i.input_nr, "data-rule": i.rule,
            "data-grad": JSON.stringify(i.grad) });
          li.append(i.to_name + ": ", el("span", { class: "ale-rule" }, i.rule + " = "),
            el("span", { class: "ale-value" }, fmt(i.grad)));
          ul.appendChild(li);
        }
        panel.appendChild(ul);
      }
      if (s.kind === "leaf") panel.appendChild(el("div", {}, "adds it into .grad"));
    }
    const leaves = k === 0 ? graph.leaf_grads_before : steps[k - 1].leaf_grads;
    if (leaves.length) {
      panel.appendChild(el("div", {}, "leaves' .grad:"));
      const ul = el("ul", {});
      for (const g of leaves) {
        ul.appendChild(el("li", { "data-testid": "explore-leaf-grad", "data-leaf": g.name,
          "data-vertex": g.vertex, "data-grad": JSON.stringify(g.grad) },
          g.name + ".grad = " + fmt(g.grad)));
      }
      panel.appendChild(ul);
    }
  }
  model.on("change:index", paint);
  paint();
}
export default { render };
