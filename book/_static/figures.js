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
