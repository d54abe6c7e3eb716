import t from 'tap';
import { readFraction, readInteger } from '../src/numbers.js';

t.test('integers: decimal digits only, within range', async (t) => {
  for (const ok of [
    ['0', 0],
    ['7', 7],
    ['8192', 8192],
  ] as const)
    t.equal(readInteger(ok[0], 0, 8192), ok[1], ok[0]);
  for (const bad of [
    '',
    ' 1',
    '1 ',
    '+1',
    '-1',
    '01',
    '0x10',
    '1e2',
    '1.0',
    'Infinity',
    'NaN',
    '8193',
    '１２',
    '9'.repeat(30),
  ]) {
    t.equal(readInteger(bad, 0, 8192), undefined, JSON.stringify(bad));
  }
});

t.test('fractions: 0..1 written plainly', async (t) => {
  for (const ok of [
    ['0', 0],
    ['1', 1],
    ['0.25', 0.25],
    ['1.000', 1],
    ['0.1235', 0.1235],
  ] as const) {
    t.equal(readFraction(ok[0]), ok[1], ok[0]);
  }
  for (const bad of ['', '.5', '0.', '1.5', '-0.5', '+0.5', '5e-1', ' 0.5', '0x1', 'Infinity', '2']) {
    t.equal(readFraction(bad), undefined, JSON.stringify(bad));
  }
});
