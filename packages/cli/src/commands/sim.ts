// `kakunin sim …`: the simulated J-LIS sandbox (filled in with the sim package API).
import type { Command } from 'commander';

export function registerSimCommands(program: Command): void {
  program.command('sim').description('the simulated J-LIS: sandbox, people, certificates, life events');
}
