// The outlet list offers only the outlets of the brand chosen above it (each option carries
// data-brand); with no brand chosen, all of the town's outlets stay. A chosen outlet of
// another brand is cleared rather than left to be refused on submit.
(function () {
  var brand = document.getElementById("id_brand");
  var outlet = document.getElementById("id_outlet");
  if (!brand || !outlet) return;
  function filter() {
    var chosen = brand.value;
    Array.prototype.forEach.call(outlet.options, function (option) {
      var of = option.getAttribute("data-brand");
      var show = !of || !chosen || of === chosen;
      option.hidden = !show;
      option.disabled = !show;
      if (!show && option.selected) outlet.value = "";
    });
  }
  brand.addEventListener("change", filter);
  filter();
})();
