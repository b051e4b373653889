import { randomInt } from 'node:crypto';

// Short, unambiguous, inoffensive words: names are typed in commands and read aloud.
const ADJECTIVES = [
  'amber',
  'brave',
  'calm',
  'clever',
  'cosmic',
  'crisp',
  'dapper',
  'eager',
  'fancy',
  'fuzzy',
  'gentle',
  'golden',
  'happy',
  'humble',
  'jolly',
  'keen',
  'lively',
  'lucky',
  'mellow',
  'merry',
  'nimble',
  'noble',
  'polite',
  'proud',
  'quick',
  'quiet',
  'rapid',
  'shiny',
  'silent',
  'sleek',
  'snappy',
  'solid',
  'spry',
  'steady',
  'sunny',
  'swift',
  'tidy',
  'vivid',
  'witty',
  'zesty',
];
const NOUNS = [
  'badger',
  'beacon',
  'birch',
  'canyon',
  'cedar',
  'comet',
  'coral',
  'falcon',
  'fern',
  'fjord',
  'garnet',
  'glacier',
  'harbor',
  'heron',
  'island',
  'jaguar',
  'lagoon',
  'lantern',
  'maple',
  'meadow',
  'nebula',
  'otter',
  'panda',
  'pebble',
  'pine',
  'quartz',
  'raven',
  'reef',
  'river',
  'robin',
  'sparrow',
  'spruce',
  'summit',
  'tiger',
  'tundra',
  'valley',
  'walrus',
  'willow',
  'yak',
  'zephyr',
];

function pick(words: readonly string[]): string {
  return words[randomInt(words.length)] ?? 'sandbox';
}

/** A two-word name (`sunny-otter`) not in `taken`; adds a number after many collisions. */
export function choosePetname(taken: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const name = `${pick(ADJECTIVES)}-${pick(NOUNS)}`;
    if (!taken.has(name)) return name;
  }
  let n = 2;
  const base = `${pick(ADJECTIVES)}-${pick(NOUNS)}`;
  while (taken.has(`${base}-${String(n)}`)) n += 1;
  return `${base}-${String(n)}`;
}
