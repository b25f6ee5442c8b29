// The export page's 「全选」 toggle, wired here because the CSP forbids onchange="" attributes
// (templates/admin/import_export/export.html). onSelectToggleChange comes from
// django-import-export's export_selectable_fields.js, loaded before this file.
document.querySelectorAll(".select-toggle").forEach(function (toggle) {
  toggle.addEventListener("change", onSelectToggleChange);
});
