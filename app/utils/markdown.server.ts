import MarkdownIt from "markdown-it";
import taskLists from "markdown-it-task-lists";

// html: false escapes any raw HTML in model output; markdown-it's validateLink already refuses
// javascript:, vbscript:, file: and non-image data: URLs.
// Task lists ("- [x] done") render as disabled checkboxes, labelled by their text, instead of literal brackets.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false }).use(taskLists, { enabled: false, label: true, labelAfter: true });

/** Renders untrusted markdown (LLM output) to HTML that is safe to inject. */
export function renderMarkdown(source: string): string {
  return markdown.render(source);
}
