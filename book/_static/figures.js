// Every figure and output image links to its own file, so a reader can open it at full
// size (a figure is shrunk to the page width on small screens).
document.addEventListener("DOMContentLoaded", () => {
  const images = document.querySelectorAll(".bd-article figure img, .bd-article .cell_output img");
  images.forEach((img) => {
    if (img.closest("a") || img.src.startsWith("data:")) {
      return;
    }
    const link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.className = "image-enlarge";
    link.title = "Open the image at full size";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});

// An interactive (Plotly) figure inside a closed dropdown is laid out at a guessed width;
// when the dropdown opens it is laid out again at the width it has.
document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (details.tagName !== "DETAILS" || !details.open || typeof Plotly === "undefined") {
      return;
    }
    details.querySelectorAll(".js-plotly-plot").forEach((plot) => Plotly.Plots.resize(plot));
  },
  true,
);
