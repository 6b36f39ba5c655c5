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
