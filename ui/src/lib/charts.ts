// How each dashboard chart is worded: its title, what its rows and columns are, in the UI's
// language. The same words go into a saved chart (CountLabelsDto): the vault writes counts and
// these words, nothing else (docs/design-notes.md "Counts for advocacy").
import { t, fmtDate, type Key } from './i18n/index.svelte';
import type { ChartDto, CountLabelsDto } from './types';

export function chartTitle(c: string): string {
  return t(`chart.${c}` as Key);
}

/** What the rows of a chart are (the first column of a saved table). */
export function rowHeading(c: string): string {
  return t(`chart_rows.${c}` as Key);
}

/** A row key in words. */
export function rowLabel(c: string, row: string): string {
  switch (c) {
    case 'attempts-by-year':
    case 'testimonies-by-year':
      if (row === 'none') return t('chart.year_unknown');
      if (row === 'earlier') return t('chart.earlier');
      if (row === 'later') return t('chart.later');
      return row;
    case 'waiting':
      return t(`wait.${row}` as Key);
    case 'outcomes-by-channel':
      return t(`channel.${row}` as Key);
    case 'attempts-per-person':
      return t(`per_person.${row}` as Key);
    case 'testimonies-by-event':
      return t(`event.${row}` as Key);
    case 'testimonies-by-region':
      return t(`region.${row}` as Key);
    case 'activity':
      return row === 'this-device' ? t('chart.this_device') : row;
    default:
      return row;
  }
}

/** A column key in words. */
export function columnLabel(c: string, column: string): string {
  if (c === 'attempts-by-year' || c === 'outcomes-by-channel') return t(`outcome.${column}` as Key);
  if (c === 'activity') return fmtDate(column);
  return t(`chart_count.${c}` as Key);
}

/** The words of a saved chart: title, headings, every key of its rows and columns, the note. */
export function countLabels(c: ChartDto): CountLabelsDto {
  const rows: Record<string, string> = {};
  for (const r of c.rows) rows[r.key] = rowLabel(c.chart, r.key);
  const columns: Record<string, string> = {};
  for (const k of c.columns) columns[k] = columnLabel(c.chart, k);
  return {
    title: chartTitle(c.chart),
    row_heading: rowHeading(c.chart),
    rows,
    columns,
    note: t('counts.note'),
  };
}
