export { createProducer, createProducerFromSettings } from './producer.js'
export type { Producer, ProducerHeaders, ProducerRecord, RecordMetadata, ProducerMetrics, Transaction, ProducerEvents } from './types.js'
