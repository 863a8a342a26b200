// The admin's permission matrix: choosing a tenant shows its matrix (a file, as the admin's
// Content-Security-Policy allows no inline script).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const select = document.getElementById("tenant");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
});
