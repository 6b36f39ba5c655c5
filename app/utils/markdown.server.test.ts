import { describe, expect, it } from "vitest";
import { renderMarkdown } from "./markdown.server";

describe("renderMarkdown", () => {
  it("renders markdown structure", () => {
    expect(renderMarkdown("**bold**\n\n1. one\n2. two")).toBe("<p><strong>bold</strong></p>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n");
  });

  it("escapes raw HTML from model output instead of injecting it", () => {
    const html = renderMarkdown('<script>alert(1)</script><img src=x onerror="alert(2)">');
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain("&lt;script&gt;");
  });

  it("renders task lists as disabled checkboxes and tables as tables", () => {
    const html = renderMarkdown("- [x] done\n- [ ] to do\n\n| a | b |\n|---|---|\n| 1 | 2 |");
    expect(html).toMatch(
      /<input class="task-list-item-checkbox" checked="" disabled="" type="checkbox" id="(task-item-\d+)"><label class="task-list-item-label" for="\1"> done<\/label>/,
    );
    expect(html).not.toContain("[ ]");
    expect(html).toContain("<table>");
  });

  it("drops javascript: links", () => {
    const html = renderMarkdown("[click](javascript:alert(1))");
    expect(html).not.toContain("href");
  });
});

describe("renderMarkdown images", () => {
  it("shows a remote image as a link to follow, never an <img> the browser would load", () => {
    const html = renderMarkdown('Here: ![tracking pixel](https://evil.example/p.png?user=1 "title")');
    expect(html).not.toContain("<img");
    expect(html).toContain(
      '<a class="md-image-note" href="https://evil.example/p.png?user=1" rel="nofollow noopener noreferrer" target="_blank">[image not loaded: tracking pixel]</a>',
    );
  });

  it("links a same-origin or relative image too, and labels it by its URL when it has no alt text", () => {
    const html = renderMarkdown("![](/studies/1/export/download?format=jsonl)");
    expect(html).not.toContain("<img");
    expect(html).toContain('href="/studies/1/export/download?format=jsonl"');
    expect(html).toContain("[image not loaded: /studies/1/export/download?format=jsonl]");
  });

  it("names an embedded data: image without showing it", () => {
    const html = renderMarkdown("![chart](data:image/png;base64,iVBORw0KGgo=)");
    expect(html).not.toMatch(/<img|href=/);
    expect(html).toContain('<span class="md-image-note">[image not shown: chart]</span>');
  });

  it("escapes the alt text and URL of an image", () => {
    const html = renderMarkdown('![<b>"x"</b>](https://e.example/"onerror=alert(1))');
    expect(html).not.toMatch(/<img|<b>|"onerror/);
  });

  it("keeps reference-style and linked images as notes", () => {
    const html = renderMarkdown("[![badge](https://e.example/b.svg)](https://e.example)\n\n![ref][1]\n\n[1]: https://e.example/r.png");
    expect(html).not.toContain("<img");
    expect(html.match(/md-image-note/g)).toHaveLength(2);
  });
});
