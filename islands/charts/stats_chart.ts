// Chart.js for the live stats island, registered piece by piece so the bundle carries only the
// line chart parts it uses. Loaded with a dynamic import from the island: server rendering never
// touches it, and pages without a chart never download it.
import {
  CategoryScale,
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from "chart.js";

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  Filler,
  Tooltip,
);

/** Colours from the page's theme (CSS custom properties). */
export interface ChartColors {
  cpu: string;
  memory: string;
  grid: string;
  text: string;
}

/** A rolling chart of CPU and memory percentages. */
export interface StatsChart {
  push(label: string, cpu: number | null, memory: number | null): void;
  destroy(): void;
}

/** Creates the chart in `canvas`, keeping at most `points` samples. */
export function createStatsChart(
  canvas: HTMLCanvasElement,
  colors: ChartColors,
  points: number,
): StatsChart {
  const labels: string[] = [];
  const cpu: (number | null)[] = [];
  const memory: (number | null)[] = [];
  const chart = new Chart(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [
        {
          label: "CPU %",
          data: cpu,
          borderColor: colors.cpu,
          backgroundColor: colors.cpu + "33",
          fill: true,
          borderWidth: 1.5,
          pointRadius: 0,
          tension: 0.25,
        },
        {
          label: "Memory %",
          data: memory,
          borderColor: colors.memory,
          borderWidth: 1.5,
          pointRadius: 0,
          tension: 0.25,
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: {
          ticks: { color: colors.text, maxTicksLimit: 6, maxRotation: 0, autoSkipPadding: 16 },
          grid: { display: false },
        },
        y: {
          min: 0,
          suggestedMax: 10,
          ticks: { color: colors.text, maxTicksLimit: 5, callback: (v) => `${v}%` },
          grid: { color: colors.grid },
        },
      },
      plugins: { tooltip: { enabled: true } },
    },
  });
  return {
    push(label, c, m) {
      labels.push(label);
      cpu.push(c);
      memory.push(m);
      if (labels.length > points) {
        labels.shift();
        cpu.shift();
        memory.shift();
      }
      chart.update("none");
    },
    destroy: () => chart.destroy(),
  };
}
