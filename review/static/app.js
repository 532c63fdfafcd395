// Keyboard-first review, zoom of the header crop, adding recipient units. Plain JS, no libraries.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  // Review page: Ctrl+Enter approves, Alt+N opens the next letter, +/− zoom (outside text fields).
  var form = document.querySelector("[data-review-form]");
  var next = document.getElementById("next-letter");
  document.addEventListener("keydown", function (e) {
    var key = e.key;
    if (form && (e.ctrlKey || e.metaKey) && key === "Enter") {
      var approve = document.getElementById("approve");
      if (approve) { e.preventDefault(); form.requestSubmit(approve); }
      return;
    }
    if (e.altKey && e.code === "KeyN") {  // by position: works with the Thai keyboard layout too
      var target = next || document.querySelector("[data-next-url]");
      if (target) {
        e.preventDefault();
        window.location.href = target.getAttribute("href") || target.getAttribute("data-next-url");
      }
      return;
    }
    if (!typing(document.activeElement) && (key === "+" || key === "=" || key === "-")) {
      zoom(key === "-" ? -1 : 1);
    }
  });

  // Enter in a one-line field does not submit the review form (that is Ctrl+Enter's job).
  if (form) {
    form.addEventListener("keydown", function (e) {
      var el = e.target;
      if (e.key === "Enter" && !e.ctrlKey && !e.metaKey && el.tagName === "INPUT" && !el.hasAttribute("data-add-unit")) {
        e.preventDefault();
      }
    });
    // Picking a register candidate puts its number into the number field.
    form.addEventListener("change", function (e) {
      var el = e.target;
      var fill = el.getAttribute && el.getAttribute("data-fill");
      if (fill && el.checked) {
        var input = document.getElementById(fill);
        if (input) { input.value = el.value; }
      }
    });
    // The first field the machine was unsure of gets the focus.
    var low = form.querySelector(".field.low input, .field.low textarea") || form.querySelector("input[name=number]");
    if (low && !low.readOnly) { low.focus(); if (low.select) { low.select(); } }
  }

  // Add a recipient unit: type an id or a name from the list, press Enter.
  var add = document.querySelector("[data-add-unit]");
  if (add) {
    add.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      e.preventDefault();
      var value = add.value.trim();
      if (!value) { return; }
      var options = document.querySelectorAll("#unit-options option");
      var match = null;
      for (var i = 0; i < options.length; i++) {
        if (options[i].value === value || options[i].textContent.trim() === value) { match = options[i]; break; }
      }
      if (!match) { add.setCustomValidity("ไม่พบหน่วยงานนี้ในทำเนียบ"); add.reportValidity(); return; }
      add.setCustomValidity("");
      var list = document.getElementById("unit-list");
      var existing = list.querySelector("input[value='" + match.value.replace(/'/g, "") + "']");
      if (existing) { existing.checked = true; add.value = ""; return; }
      var label = document.createElement("label");
      label.className = "unit";
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "units"; box.value = match.value; box.checked = true;
      var small = document.createElement("small");
      small.className = "mono"; small.textContent = match.value;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + match.textContent.trim() + " "));
      label.appendChild(small);
      list.appendChild(label);
      var none = document.getElementById("no-units");
      if (none) { none.remove(); }
      var count = document.getElementById("unit-count");
      if (count) { count.textContent = list.querySelectorAll("input[name=units]").length; }
      add.value = "";
    });
  }

  // Zoom of the header crop: click toggles, buttons and +/− step.
  var crop = document.getElementById("crop");
  var img = document.getElementById("crop-img");
  var scale = 1;
  function apply() {
    if (!img) { return; }
    img.style.width = (scale * 100) + "%";
    crop.classList.toggle("zoomed", scale > 1);
  }
  function zoom(step) {
    if (!img) { return; }
    scale = Math.min(4, Math.max(1, scale + step * 0.5));
    apply();
  }
  if (img) {
    img.addEventListener("click", function (e) {
      var rect = img.getBoundingClientRect();
      var fx = (e.clientX - rect.left) / rect.width, fy = (e.clientY - rect.top) / rect.height;
      scale = scale > 1 ? 1 : 2.5;
      apply();
      crop.scrollLeft = fx * img.clientWidth - crop.clientWidth / 2;
      crop.scrollTop = fy * img.clientHeight - crop.clientHeight / 2;
    });
  }
  document.querySelectorAll("[data-zoom]").forEach(function (b) {
    b.addEventListener("click", function () {
      var how = b.getAttribute("data-zoom");
      if (how === "fit") { scale = 1; apply(); } else { zoom(how === "in" ? 1 : -1); }
    });
  });
})();
