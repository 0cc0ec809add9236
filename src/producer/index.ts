export { createProducer, createProducerFromSettings } from './producer.js'
export type { Producer, ProducerRecord, RecordMetadata, ProducerMetrics, Transaction, ProducerEvents } from './types.js'
