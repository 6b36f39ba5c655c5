import MarkdownIt from "markdown-it";
import taskLists from "markdown-it-task-lists";

// html: false escapes any raw HTML in model output; markdown-it's validateLink already refuses
// javascript:, vbscript:, file: and non-image data: URLs.
// Task lists ("- [x] done") render as disabled checkboxes, labelled by their text, instead of literal brackets.
const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false }).use(taskLists, { enabled: false, label: true, labelAfter: true });
const { escapeHtml } = markdown.utils;

// An image in a response is never loaded: a model (or whoever wrote the imported responses) could
// point it at a tracking pixel that reports every annotator who sees the pair, or at one of our own
// URLs. It becomes a visible note, a link the annotator may follow by choice; an embedded data: image
// is only named. The CSP (img-src 'self' data:) would block a remote one anyway.
markdown.renderer.rules.image = (tokens, index, options, env, renderer) => {
  const token = tokens[index]!;
  const src = token.attrGet("src") ?? "";
  const alt = renderer.renderInlineAsText(token.children ?? [], options, env);
  const label = escapeHtml(alt || src);
  if (src === "" || src.toLowerCase().startsWith("data:")) return `<span class="md-image-note">[image not shown${alt ? `: ${label}` : ""}]</span>`;
  return `<a class="md-image-note" href="${escapeHtml(src)}" rel="nofollow noopener noreferrer" target="_blank">[image not loaded: ${label}]</a>`;
};

/** Renders untrusted markdown (LLM output) to HTML that is safe to inject and loads nothing by itself. */
export function renderMarkdown(source: string): string {
  return markdown.render(source);
}
