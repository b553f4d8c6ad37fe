// Pipeline board: drag a card onto another column, say why, and the lead moves.
// Without JavaScript every card keeps its "Move…" link to the record page.
(function () {
  "use strict";

  var dragged = null;

  function elementOf(target) {
    return target && target.nodeType === 1 ? target : target && target.parentElement;
  }

  function columnAt(target) {
    var el = elementOf(target);
    return el ? el.closest("[data-column]") : null;
  }

  function acceptsDrop(column) {
    return dragged && column &&
      column.getAttribute("data-stage") !== dragged.getAttribute("data-stage");
  }

  function clearTargets() {
    document.querySelectorAll(".is-drop-target").forEach(function (el) {
      el.classList.remove("is-drop-target");
    });
  }

  document.addEventListener("dragstart", function (e) {
    var el = elementOf(e.target);
    var card = el ? el.closest("[data-card]") : null;
    if (!card) { return; }
    dragged = card;
    card.classList.add("is-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
  });

  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("is-dragging"); }
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (e) {
    var column = columnAt(e.target);
    if (!acceptsDrop(column)) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("is-drop-target")) {
      clearTargets();
      column.classList.add("is-drop-target");
    }
  });

  document.addEventListener("dragleave", function (e) {
    var column = columnAt(e.target);
    if (column && !column.contains(elementOf(e.relatedTarget))) {
      column.classList.remove("is-drop-target");
    }
  });

  document.addEventListener("drop", function (e) {
    var column = columnAt(e.target);
    if (!acceptsDrop(column)) { return; }
    e.preventDefault();
    clearTargets();
    openDialog(dragged, column);
  });

  // --- the reason dialog ---------------------------------------------------------

  function openDialog(card, column) {
    var dialog = document.getElementById("move-dialog");
    if (!dialog) { return; }
    var form = dialog.querySelector("form");
    // The board's filters travel along so the returned board shows the same cards.
    form.setAttribute("action", card.getAttribute("data-move-url") + window.location.search);
    form.elements.stage.value = column.getAttribute("data-stage");
    form.elements.reason.value = "";
    dialog.querySelector("[data-move-title]").textContent = card.getAttribute("data-title");
    dialog.querySelector("[data-move-stage]").textContent = column.getAttribute("data-stage-name");
    dialog.querySelector("[data-move-error]").textContent = "";
    dialog.showModal();
    form.elements.reason.focus();
  }

  function showError(dialog, html) {
    var box = dialog.querySelector("[data-move-error]");
    if (html) {
      box.innerHTML = html;  // a server-rendered, escaped partial
    } else {
      var p = document.createElement("p");
      p.className = "alert";
      p.setAttribute("role", "alert");
      p.textContent = dialog.getAttribute("data-failed");
      box.replaceChildren(p);
    }
  }

  function submitMove(form) {
    var dialog = form.closest("dialog");
    var button = form.querySelector("[type=submit]");
    var token = form.elements.csrfmiddlewaretoken.value;
    button.disabled = true;
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "HX-Request": "true", "X-CSRFToken": token }
    }).then(function (response) {
      return response.text().then(function (text) {
        if (response.ok) {
          var board = document.getElementById("board");
          board.innerHTML = text;
          if (window.htmx) { window.htmx.process(board); }
          dialog.close();
        } else if (response.status === 409 || response.status === 422) {
          showError(dialog, text);
        } else {
          showError(dialog, null);
        }
      });
    }).catch(function () {
      showError(dialog, null);
    }).finally(function () {
      button.disabled = false;
    });
  }

  document.addEventListener("submit", function (e) {
    if (e.target.id !== "move-form") { return; }
    e.preventDefault();
    submitMove(e.target);
  });

  document.addEventListener("click", function (e) {
    var el = elementOf(e.target);
    var cancel = el ? el.closest("[data-dialog-cancel]") : null;
    if (cancel) { cancel.closest("dialog").close(); }
  });
})();
