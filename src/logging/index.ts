export { type JsonLoggerOptions, jsonLogger } from './json-logger.js'
export { LOG_LEVELS, type LogFields, type Logger, type LogLevel, silentLogger } from './logger.js'
export { type TextLoggerOptions, textLogger } from './text-logger.js'
