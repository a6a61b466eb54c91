/* 单位选择: an input marked data-unit-picker="1" suggests the units the user may see as they type a name or a
 * code (GET /unitpicker/search?q=…, scoped by the server); choosing one puts its code in the field. Without
 * this script the field is a plain text field that takes a unit code. No external dependency. */
(function () {
  "use strict";
  var URL = "/unitpicker/search";

  function attach(input, n) {
    var list = document.createElement("datalist");
    list.id = "unit-picker-" + n;
    input.parentNode.appendChild(list);
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    var timer = null, last = null;
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (!q || q === last) { return; }
      timer = setTimeout(function () {
        last = q;
        fetch(URL + "?q=" + encodeURIComponent(q), {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : {units: []}; })
          .then(function (data) {
            while (list.firstChild) { list.removeChild(list.firstChild); }
            (data.units || []).forEach(function (u) {
              var opt = document.createElement("option");
              opt.value = u.code;
              opt.label = u.name + "（" + u.code + "）";
              opt.textContent = u.name + "（" + u.code + "）";
              list.appendChild(opt);
            });
          })
          .catch(function () { /* the field still takes a typed code */ });
      }, 200);
    });
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-unit-picker]");
    for (var i = 0; i < inputs.length; i++) { attach(inputs[i], i); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
