import { describe, expect, it } from "vitest";
import { multipartBoundary, splitMultipart } from "./multipart.server";

// splitMultipart must read what the platform's FormData encoder writes, as the platform's parser does.

async function encoded(form: FormData) {
  const request = new Request("http://localhost/", { method: "POST", body: form });
  return { body: new Uint8Array(await request.arrayBuffer()), contentType: request.headers.get("content-type") };
}

describe("splitMultipart", () => {
  it("gives the fields and files of an encoded form, byte for byte, as FormData parsing does", async () => {
    const form = new FormData();
    form.set("intent", "import");
    form.set("note", 'ünïcode "quoted"\r\n--not a boundary');
    const bytes = new Uint8Array([0x7b, 0x0d, 0x0a, 0x2d, 0x2d, 0xc3, 0xa9, 0x0a, 0x7d]);
    form.set("log", new File([bytes], 'raw "log".jsonl'));
    form.set("empty", new File([], ""));
    const { body, contentType } = await encoded(form);
    const boundary = multipartBoundary(contentType);
    expect(boundary).not.toBeNull();
    const parts = splitMultipart(body, boundary!);
    expect(parts?.map((part) => ({ ...part, data: Buffer.from(part.data).toString("latin1") }))).toEqual([
      { name: "intent", fileName: null, data: "import" },
      { name: "note", fileName: null, data: Buffer.from('ünïcode "quoted"\r\n--not a boundary', "utf8").toString("latin1") },
      { name: "log", fileName: 'raw "log".jsonl', data: Buffer.from(bytes).toString("latin1") },
      // The platform writes no filename for a file without a name: a plain (empty) field, as its parser reads it.
      { name: "empty", fileName: null, data: "" },
    ]);
    const parsed = await new Response(body, { headers: { "Content-Type": contentType! } }).formData();
    expect(new Uint8Array(await (parsed.get("log") as File).arrayBuffer())).toEqual(bytes);
    expect(parsed.get("empty")).toBe("");
  });

  it("refuses what is not a multipart body with that boundary", async () => {
    const { body, contentType } = await encoded(Object.assign(new FormData(), {}));
    const boundary = multipartBoundary(contentType)!;
    expect(splitMultipart(new TextEncoder().encode("not multipart at all"), boundary)).toBeNull();
    expect(
      splitMultipart(new TextEncoder().encode(`--${boundary}\r\nContent-Type: text/plain\r\n\r\nno name\r\n--${boundary}--`), boundary),
    ).toBeNull();
    expect(
      splitMultipart(new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated`), boundary),
    ).toBeNull();
    expect(splitMultipart(body, boundary)).toEqual([]);
    expect(multipartBoundary("application/x-www-form-urlencoded")).toBeNull();
  });
});
