export { BaseCommand, outputFlag, type OutputFormat } from './base-command.js';
