// The share box on the thank-you and status pages, made better where the browser can:
// a "Copy link" button and the device's own share sheet. Without JavaScript the link is a
// read-only field to select and copy, and the share buttons below it still work. Its words
// come from the page, in the page's language (data-copied, data-copy-by-hand).
for (const box of document.querySelectorAll("[data-share]")) {
  const link = box.querySelector("input");
  const status = box.querySelector("[data-status]");
  const copy = box.querySelector("[data-copy]");
  if (navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link.value);
        status.textContent = box.dataset.copied;
      } catch {
        link.select();
        status.textContent = box.dataset.copyByHand;
      }
    });
  }
  const share = box.querySelector("[data-native-share]");
  if (navigator.share) {
    share.hidden = false;
    share.addEventListener("click", () => {
      const { title, text } = share.dataset;
      navigator.share({ title, text, url: link.value }).catch(() => {});
    });
  }
}
