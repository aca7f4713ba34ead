// frames_module.test.mjs — the page takes a frame's module name from the
// report (`module_short`, decided once by analyzer/base/module.c) and only
// falls back to its own copy of the rule for stored reports written before
// that key.  Pure functions: no browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameText, frameModule, moduleName } from '../../web/static/frames.js';

test('a frame is named with the report\'s module_short', () => {
  const f = { module: 'ntkrnlmp.exe', module_short: 'nt', function: 'KeWaitForSingleObject', function_offset: '0x233' };
  assert.equal(frameText(f), 'nt!KeWaitForSingleObject+0x233');
  // whatever the page would have guessed, the analyzer's name wins
  assert.equal(frameModule({ module: 'weird.bin', module_short: 'analyzer_says' }), 'analyzer_says');
  assert.equal(frameText({ module: 'hello_block.exe', module_short: 'hello_block', module_offset: '0x13ae' }), 'hello_block+0x13ae');
});

test('stored reports without module_short still read the WinDbg way', () => {
  assert.equal(frameText({ module: '\\SystemRoot\\system32\\ntkrnlmp.exe', module_offset: '0x10' }), 'nt+0x10');
  assert.equal(frameText({ module: 'ntkrla57.exe', function: 'NtReadFile' }), 'nt!NtReadFile');
  assert.equal(frameText({ module: 'C:/Windows/System32/KERNELBASE.dll', function: 'ReadFile', function_offset: '0x148' }),
    'KERNELBASE!ReadFile+0x148');
  assert.equal(moduleName('halmacpi.dll'), 'hal');
  assert.equal(moduleName('ntdll.dll'), 'ntdll');
  assert.equal(frameText({ ip: '0x1234' }), '0x1234');
});
