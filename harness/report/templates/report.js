// Progressive enhancement only: every row is in the HTML. This script filters, searches and sorts
// the spec table (state in the URL query: ?outcome=failed&q=grad&sort=duration&dir=desc), folds
// passing rows of the matrix, opens a card a link points at, and adds copy buttons.
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  // --- spec table: filter, search, sort, URL state
  var table = $("#spec-table");
  var body = table.tBodies[0];
  var rows = $$("tr", body);
  var haystack = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var original = rows.slice();
  var outcome = $("#f-outcome"), search = $("#f-search"), shown = $("#f-shown");
  var heads = $$("th[data-key]", table.tHead);
  var state = { outcome: "", q: "", sort: "", dir: "asc", uses: "" };

  function readUrl() {
    var p = new URLSearchParams(location.search);
    state.outcome = p.get("outcome") || "";
    state.q = p.get("q") || "";
    state.uses = p.get("uses") || "";
    state.sort = p.get("sort") || "";
    state.dir = p.get("dir") === "desc" ? "desc" : "asc";
    if (!$('option[value="' + CSS.escape(state.outcome) + '"]', outcome)) state.outcome = "";
    if (!heads.some(function (th) { return th.dataset.key === state.sort; })) state.sort = "";
  }

  function writeUrl() {
    var p = new URLSearchParams();
    if (state.outcome) p.set("outcome", state.outcome);
    if (state.q) p.set("q", state.q);
    if (state.uses) p.set("uses", state.uses);
    if (state.sort) { p.set("sort", state.sort); if (state.dir === "desc") p.set("dir", "desc"); }
    var query = p.toString();
    try {
      history.replaceState(null, "", (query ? "?" + query : location.pathname) + location.hash);
    } catch (e) { /* some browsers refuse history changes on file: URLs; filtering still works */ }
  }

  function matches(row, i, terms) {
    var o = state.outcome, d = row.dataset;
    if (o === "unexpected" && !("unexpected" in d)) return false;
    if (o === "changed" && !d.change) return false;
    if (o && o !== "unexpected" && o !== "changed" && d.outcome !== o) return false;
    // a suspect's link: only the rows that exercised it (its key among the row's data-uses)
    if (state.uses && (" " + (d.uses || "") + " ").indexOf(" " + state.uses + " ") < 0) return false;
    for (var t = 0; t < terms.length; t++) if (haystack[i].indexOf(terms[t]) < 0) return false;
    return true;
  }

  function key(row, col) {
    var cell = row.cells[col];
    if (cell.dataset.sort !== undefined) return parseFloat(cell.dataset.sort);
    return cell.textContent.trim().toLowerCase();
  }

  function apply() {
    var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    var visible = 0;
    rows.forEach(function (row, i) {
      var ok = matches(row, i, terms);
      row.hidden = !ok;
      if (ok) visible++;
    });
    var order = original.slice();
    var col = -1;
    heads.forEach(function (th, i) {
      var on = th.dataset.key === state.sort;
      if (on) col = i;
      if (on) th.setAttribute("aria-sort", state.dir === "desc" ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
    if (col >= 0) {
      var sign = state.dir === "desc" ? -1 : 1;
      var index = new Map(original.map(function (r, i) { return [r, i]; }));
      order.sort(function (a, b) {
        var ka = key(a, col), kb = key(b, col);
        var c = ka < kb ? -1 : ka > kb ? 1 : 0;
        return c * sign || index.get(a) - index.get(b);
      });
    }
    var frag = document.createDocumentFragment();
    order.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
    outcome.value = state.outcome;
    if (search.value !== state.q) search.value = state.q;
    shown.textContent = visible + " of " + rows.length + " shown" +
      (state.uses ? ", exercising " + state.uses.replace(/^[a-z_]+:/, "") : "");
    $("#no-match").hidden = visible > 0;
    writeUrl();
  }

  heads.forEach(function (th) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.textContent = th.textContent;
    button.title = "sort by " + th.textContent.toLowerCase();
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      if (state.sort === th.dataset.key) {
        if (state.dir === "asc") state.dir = "desc"; else { state.sort = ""; state.dir = "asc"; }
      } else { state.sort = th.dataset.key; state.dir = "asc"; }
      apply();
    });
  });
  outcome.addEventListener("change", function () { state.outcome = outcome.value; apply(); });
  search.addEventListener("input", function () { state.q = search.value.trim(); apply(); });
  $("#toolbar").addEventListener("submit", function (e) { e.preventDefault(); });
  $("#f-reset").addEventListener("click", function () {
    state.outcome = state.q = state.sort = state.uses = ""; state.dir = "asc"; apply();
  });
  $$("ul.summary li[data-filter]").forEach(function (li) {
    li.classList.add("js-click");
    li.tabIndex = 0;
    li.title = "show these in the spec table";
    var go = function () {
      state.outcome = li.dataset.filter;
      apply();
      $("#specs").scrollIntoView();
    };
    li.addEventListener("click", go);
    li.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
  });
  $$("a.suspect-filter").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var p = new URLSearchParams(a.getAttribute("href").split("#")[0].slice(1));
      state.outcome = p.get("outcome") || ""; state.uses = p.get("uses") || ""; state.q = "";
      apply();
      $("#specs").scrollIntoView();
      e.preventDefault();
    });
  });
  $("#toolbar").hidden = false;
  readUrl();
  apply();

  // --- a link to a card opens it
  // (on click too: hashchange fires later, and not at all when the hash is already the link's)
  function openCard(id) {
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  function openTarget() { openCard(decodeURIComponent(location.hash.slice(1))); }
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest('a[href^="#"]');
    if (a) openCard(decodeURIComponent(a.getAttribute("href").slice(1)));
  });
  window.addEventListener("hashchange", openTarget);
  openTarget();

  $$(".fold-all").forEach(function (span) {
    span.hidden = false;
    $$("button", span).forEach(function (b) {
      b.addEventListener("click", function () {
        $$("#unexpected details.spec").forEach(function (d) { d.open = b.dataset.fold === "open"; });
      });
    });
  });

  // --- matrix: a long matrix starts folded to its failing rows; each area unfolds on its own
  var long = $$("table.matrix tr.spec-row").length > 40;
  $$("table.matrix tbody.area").forEach(function (tbody) {
    var th = $("tr.area-row th", tbody);
    var all = $$("tr.spec-row", tbody).length, bad = $$("tr.spec-row.bad", tbody).length;
    if (all === bad) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "fold";
    var set = function (folded) {
      tbody.classList.toggle("folded", folded);
      button.textContent = folded ? "show all " + all : (bad ? "only failing" : "hide");
      button.setAttribute("aria-expanded", String(!folded));
    };
    button.addEventListener("click", function () { set(!tbody.classList.contains("folded")); });
    th.appendChild(button);
    set(long);
  });

  // --- a snippet whose program the card shows already gets it back from there (page size)
  $$("pre.snippet span.then").forEach(function (then) {
    var program = $("pre.program", then.closest(".card"));
    if (!program) return;
    var copy = program.cloneNode(true);
    $$(".ln, .mk", copy).forEach(function (el) { el.remove(); });
    then.replaceWith(document.createTextNode(copy.textContent));
  });

  // --- copy buttons for commands and snippets
  $$("pre.copy").forEach(function (pre) {
    var wrap = document.createElement("div");
    wrap.className = "copy-wrap";
    pre.parentNode.insertBefore(wrap, pre);
    wrap.appendChild(pre);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-btn";
    button.textContent = "copy";
    button.addEventListener("click", function () {
      var done = function () { button.textContent = "copied"; setTimeout(function () { button.textContent = "copy"; }, 1200); };
      if (navigator.clipboard) navigator.clipboard.writeText(pre.textContent).then(done, select);
      else select();
      function select() { var r = document.createRange(); r.selectNodeContents(pre); var s = getSelection(); s.removeAllRanges(); s.addRange(r); }
    });
    wrap.appendChild(button);
  });
})();
