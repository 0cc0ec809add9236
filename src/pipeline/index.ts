export { createPipeline } from './pipeline.js'
export type { Pipeline, PipelineEvents, PipelineMetrics } from './pipeline.js'
