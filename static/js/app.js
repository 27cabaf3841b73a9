// Progressive enhancement only: every page works without this file.
// A flash message sent by the server in an HX-Trigger header ("cocreate:flash") is shown in the
// polite live region, exactly where the no-JavaScript version shows it after a redirect.
document.addEventListener("cocreate:flash", function (event) {
  var region = document.getElementById("flash-messages");
  if (!region || !event.detail) { return; }
  var p = document.createElement("p");
  p.className = "flash flash-" + (event.detail.category || "success");
  p.textContent = event.detail.message || "";
  region.replaceChildren(p);
});
