/** A small hand-written SVG line chart grid: one panel per (row, column), a few named series per panel. */
export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  /** y values for x = startX, startX + 1, ... */
  values: readonly number[];
  startX: number;
}

export interface Panel {
  title: string;
  series: Series[];
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Renders panels in a grid with shared axes: x = votes (1..maxX), y = normalised regret (0..maxY). */
export function renderRegretGrid(panels: Panel[], columns: number, maxX: number, maxY: number, legend: Series[]): string {
  const width = 240;
  const height = 150;
  const margin = { left: 34, right: 8, top: 20, bottom: 22 };
  const rows = Math.ceil(panels.length / columns);
  const totalWidth = Math.max(columns * width, 700);
  const totalHeight = rows * height + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${totalHeight}" viewBox="0 0 ${totalWidth} ${totalHeight}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  legend.forEach((series, k) => {
    const x = 10 + k * 170;
    parts.push(
      `<line x1="${x}" y1="14" x2="${x + 24}" y2="14" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="4 3"' : ""}/>`,
      `<text x="${x + 28}" y="18">${escape(series.label)}</text>`,
    );
  });
  panels.forEach((panel, index) => {
    const originX = (index % columns) * width;
    const originY = 40 + Math.floor(index / columns) * height;
    const plotWidth = width - margin.left - margin.right;
    const plotHeight = height - margin.top - margin.bottom;
    const sx = (x: number) => originX + margin.left + ((x - 1) / (maxX - 1)) * plotWidth;
    const sy = (y: number) => originY + margin.top + (1 - Math.min(y, maxY) / maxY) * plotHeight;
    parts.push(
      `<text x="${originX + margin.left}" y="${originY + 12}" font-weight="bold">${escape(panel.title)}</text>`,
      `<rect x="${originX + margin.left}" y="${originY + margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#bbb"/>`,
    );
    for (const tick of [0, maxY / 2, maxY]) {
      parts.push(`<text x="${originX + margin.left - 4}" y="${sy(tick) + 3}" text-anchor="end">${tick.toFixed(1)}</text>`);
    }
    for (const tick of [1, 50, 100, 150].filter((t) => t <= maxX)) {
      parts.push(`<text x="${sx(tick)}" y="${originY + height - 8}" text-anchor="middle">${tick}</text>`);
    }
    for (const series of panel.series) {
      if (series.values.length === 0) continue;
      const points = series.values.map((y, k) => `${sx(series.startX + k).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
      parts.push(
        `<polyline fill="none" stroke="${series.color}" stroke-width="1.5"${series.dashed ? ' stroke-dasharray="4 3"' : ""} points="${points}"/>`,
      );
    }
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
