import { Bar, BarChart, CartesianGrid, DefaultLegendContent, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import type { Series } from '../../core/attribution/reports';
import { BUCKET_WORDS, bucketTick, bucketTitle, formatAxisMoney, moneyTicks, niceTicks, spansYears } from '../chart-format';
import { formatCount, formatMoney } from '../format';

// Distinct at a glance and each at least 3:1 against the card (WCAG's contrast for graphics).
export const PALETTE = ['#3a5ccc', '#c2570c', '#1a7f4b', '#c2417a', '#7048c2', '#8a6d00', '#0f7c93', '#5b6170', '#c23a3a', '#4d7a1f'];
const TRAFFIC = { clicks: '#3a5ccc', visitors: '#c2570c' };

type Point = Series['points'][number];
type Row = Point & Record<string, number | string | Record<string, number>>;

/** Legend text in the page's own colour: a label in the series' colour could not be read (orange on white). */
const legendText = (value: string) => <span className="legend-label">{value}</span>;

/**
 * The legend under the plot, outside the chart: drawn by recharts' own legend content (the same list, icons and
 * labels), but recharts' Legend inside a chart reports its measured size to the chart, which then lays out and
 * draws every bar, axis and grid line again (about a third of the dashboard's render after its data came, in a
 * Chromium trace); here the plot simply takes the box's height left above the legend.
 */
function ChartLegend({ items }: { items: { value: string; color: string; type: 'rect' | 'line' }[] }) {
  return (
    <div className="chart-legend">
      <DefaultLegendContent payload={items} formatter={legendText} layout="horizontal" align="center" verticalAlign="bottom" iconSize={14} />
    </div>
  );
}

/** The bucket under the pointer or the keyboard's focus: its days with their year, and only the series that are not zero. */
function TooltipBox({ active, payload, bucket, lines }: Pick<TooltipContentProps<number, string>, 'active' | 'payload'> & { bucket: Series['bucket']; lines: (p: Point) => { name: string; value: string; color: string }[] }) {
  const point = payload?.[0]?.payload as Point | undefined;
  if (!active || !point) return null;
  const shown = lines(point);
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-title">{bucketTitle(point.from, point.to, bucket)}</p>
      {shown.length === 0 ? (
        <p className="muted">Nothing</p>
      ) : (
        <ul>
          {shown.map((l) => (
            <li key={l.name}>
              <span className="swatch" style={{ background: l.color }} aria-hidden="true" /> {l.name} <strong>{l.value}</strong>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Net revenue per channel, stacked, one bar per bucket; refunds larger than a bucket's sales go below zero. */
export function RevenueChart({ series }: { series: Series }) {
  const { currency, bucket, channels } = series;
  const withYear = spansYears(series.range.from, series.range.to);
  const data: Row[] = series.points.map((p) => ({ ...p, ...p.netByChannel }));
  const color = (c: string) => PALETTE[channels.indexOf(c) % PALETTE.length]!;
  // Stacked with stackOffset="sign": a bucket reaches down to the sum of its negative channels.
  const sum = (p: Point, sign: 1 | -1) => Object.values(p.netByChannel).reduce((a, n) => (n * sign > 0 ? a + n : a), 0);
  const ticks = moneyTicks(Math.min(0, ...series.points.map((p) => sum(p, -1))), Math.max(0, ...series.points.map((p) => sum(p, 1))), currency);
  return (
    <div className="chart" data-chart="daily" data-bucket={bucket} role="group" aria-label={`Net revenue per channel, ${BUCKET_WORDS[bucket]}`}>
      <div className="chart-plot">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }} stackOffset="sign">
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="from" tickFormatter={(d: string) => bucketTick(d, bucket, withYear)} minTickGap={16} />
            <YAxis tickFormatter={(v: number) => formatAxisMoney(v, currency)} width={72} ticks={ticks} domain={[ticks[0]!, ticks.at(-1)!]} interval={0} />
            <Tooltip
              cursor={{ fillOpacity: 0.15 }}
              content={(p) => (
                <TooltipBox
                  {...p}
                  bucket={bucket}
                  lines={(pt) => {
                    const rows = channels.filter((c) => (pt.netByChannel[c] ?? 0) !== 0).map((c) => ({ name: c, value: formatMoney(pt.netByChannel[c]!, currency), color: color(c) }));
                    return rows.length > 1 ? [...rows, { name: 'Total', value: formatMoney(pt.netMinor, currency), color: 'transparent' }] : rows;
                  }}
                />
              )}
            />
            {channels.map((c) => (
              <Bar key={c} dataKey={c} name={c} stackId="net" fill={color(c)} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <ChartLegend items={channels.map((c) => ({ value: c, color: color(c), type: 'rect' }))} />
    </div>
  );
}

/** Clicks and distinct visitors per bucket. */
export function TrafficChart({ series }: { series: Series }) {
  const { bucket } = series;
  const withYear = spansYears(series.range.from, series.range.to);
  const dots = series.points.length <= 31;
  const ticks = niceTicks(0, Math.max(0, ...series.points.map((p) => p.clicks)));
  return (
    <div className="chart" data-chart="traffic" data-bucket={bucket} role="group" aria-label={`Clicks and visitors, ${BUCKET_WORDS[bucket]}`}>
      <div className="chart-plot">
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={series.points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="from" tickFormatter={(d: string) => bucketTick(d, bucket, withYear)} minTickGap={16} />
            <YAxis width={56} tickFormatter={(v: number) => formatCount(v)} ticks={ticks} domain={[0, ticks.at(-1)!]} interval={0} />
            <Tooltip
              content={(p) => (
                <TooltipBox
                  {...p}
                  bucket={bucket}
                  lines={(pt) =>
                    [
                      { name: 'Clicks', value: formatCount(pt.clicks), color: TRAFFIC.clicks, n: pt.clicks },
                      { name: 'Visitors', value: formatCount(pt.visitors), color: TRAFFIC.visitors, n: pt.visitors },
                    ].filter((l) => l.n !== 0)
                  }
                />
              )}
            />
            <Line dataKey="clicks" name="Clicks" stroke={TRAFFIC.clicks} strokeWidth={2} dot={dots} isAnimationActive={false} />
            <Line dataKey="visitors" name="Visitors" stroke={TRAFFIC.visitors} strokeWidth={2} dot={dots} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </div>
      <ChartLegend
        items={[
          { value: 'Clicks', color: TRAFFIC.clicks, type: 'line' },
          { value: 'Visitors', color: TRAFFIC.visitors, type: 'line' },
        ]}
      />
    </div>
  );
}

/** The charts' figures as a table, for a screen reader, the keyboard, or copying a number. */
export function SeriesTable({ series }: { series: Series }) {
  return (
    <details className="series-table">
      <summary>Show the figures as a table</summary>
      <table className="table" aria-label="Figures per bucket">
        <thead>
          <tr>
            <th>{series.bucket === 'day' ? 'Day' : series.bucket === 'week' ? 'Week' : 'Month'}</th>
            <th className="num">Net revenue</th>
            <th className="num">Clicks</th>
            <th className="num">Visitors</th>
          </tr>
        </thead>
        <tbody>
          {series.points.map((p) => (
            <tr key={p.from} data-bucket={p.from}>
              <td>{bucketTitle(p.from, p.to, series.bucket)}</td>
              <td className="num">{formatMoney(p.netMinor, series.currency)}</td>
              <td className="num">{formatCount(p.clicks)}</td>
              <td className="num">{formatCount(p.visitors)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
