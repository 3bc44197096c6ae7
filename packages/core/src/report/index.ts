export * from './types';
export { writeReport, defaultReportDir, PAGE_SCRIPT } from './write';
export { metricsChart, type ChartRun } from './charts';
export { readEvalResults, evalTable, resultInRuns, evalCommands, homeworkScoreSchema, savedEvalResultSchema, type HomeworkScore, type SavedEvalResult } from './eval-results';
export { readJsonIfAny, readCommandLog, listFiles, epochGrids, singleImage, formatSeconds, timingFacts, lastStep, runLabels, displayPath, shortEngine } from './run-folder';
export { chromiumPath, browserRequired, openReport, type OpenedReport } from './chromium';
export { fillTemplate, escapeHtml } from './template';
export { packageDir } from './vendor';
