import MarkdownIt from "markdown-it";

// html: false escapes any raw HTML in model output; markdown-it's validateLink already refuses
// javascript:, vbscript:, file: and non-image data: URLs.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

/** Renders untrusted markdown (LLM output) to HTML that is safe to inject. */
export function renderMarkdown(source: string): string {
  return markdown.render(source);
}
