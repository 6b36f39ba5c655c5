import { describe, expect, it } from "vitest";
import { existingSingleton, releaseSingleton, setSingleton, singleton } from "./singleton.server";

describe("singleton", () => {
  it("makes an object once per name, and again after it is released", () => {
    let made = 0;
    const make = () => ({ serial: ++made });
    const first = singleton("test object", make);
    expect(singleton("test object", make)).toBe(first);
    expect(existingSingleton("test object")).toBe(first);
    expect(existingSingleton("another name")).toBeUndefined();
    expect(releaseSingleton("test object")).toBe(first);
    expect(existingSingleton("test object")).toBeUndefined();
    expect(singleton("test object", make)).toEqual({ serial: 2 });
    expect(setSingleton("test object", { serial: 9 })).toEqual({ serial: 9 });
    expect(singleton("test object", make)).toEqual({ serial: 9 });
    releaseSingleton("test object");
  });
});
