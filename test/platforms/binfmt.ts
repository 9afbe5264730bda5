// Readers for the three binary formats embedrt ships (ELF, PE, Mach-O), enough to check what a built
// addon asks of the machine that loads it: architecture, the libraries it links, the symbols it leaves
// to the loader and their versions, the minimum OS, the code signature. Written from the format
// specifications (System V gABI + GNU symbol versioning; Microsoft PE/COFF; Apple's <mach-o/loader.h>),
// not from any tool's output, so a test can read binaries of every platform on this one machine.

export interface ElfInfo {
  machine: 'x86_64' | 'aarch64' | number;
  needed: string[];
  /** Undefined dynamic symbols: name, the version it asks for (GLIBC_2.17) or '' and whether weak. */
  undefined: { name: string; version: string; weak: boolean }[];
  /** Every version the file needs, by library: { 'libc.so.6': ['GLIBC_2.17', ...] }. */
  versionsNeeded: Record<string, string[]>;
}

const cstr = (b: Buffer, off: number): string => b.toString('latin1', off, b.indexOf(0, off));

export function readElf(b: Buffer): ElfInfo {
  if (b.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (b[4] !== 2 || b[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const machineId = b.readUInt16LE(0x12);
  const machine = machineId === 62 ? 'x86_64' : machineId === 183 ? 'aarch64' : machineId;
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
      info: b.readUInt32LE(o + 0x2c),
    };
  });
  const byType = (t: number) => sections.find((s) => s.type === t);
  const dynsym = byType(11);
  const dynamic = byType(6);
  const verneed = byType(0x6ffffffe);
  const versym = byType(0x6fffffff);
  if (!dynsym || !dynamic) throw new Error('no dynamic symbol table');
  const dynstr = sections[dynsym.link]!.offset;

  const needed: string[] = [];
  const dynStrtab = sections[dynamic.link]!.offset;
  for (let o = dynamic.offset; o < dynamic.offset + dynamic.size; o += 16) {
    const tag = Number(b.readBigInt64LE(o));
    if (tag === 0) break;
    if (tag === 1) needed.push(cstr(b, dynStrtab + Number(b.readBigUInt64LE(o + 8))));
  }

  const versionName = new Map<number, string>();
  const versionsNeeded: Record<string, string[]> = {};
  if (verneed) {
    const strtab = sections[verneed.link]!.offset;
    let o = verneed.offset;
    for (let i = 0; i < verneed.info; i++) {
      const cnt = b.readUInt16LE(o + 2);
      const file = cstr(b, strtab + b.readUInt32LE(o + 4));
      let a = o + b.readUInt32LE(o + 8);
      for (let j = 0; j < cnt; j++) {
        const name = cstr(b, strtab + b.readUInt32LE(a + 8));
        versionName.set(b.readUInt16LE(a + 6), name);
        (versionsNeeded[file] ??= []).push(name);
        a += b.readUInt32LE(a + 12);
      }
      o += b.readUInt32LE(o + 12);
    }
  }

  const undefinedSyms: ElfInfo['undefined'] = [];
  const count = dynsym.size / 24;
  for (let i = 1; i < count; i++) {
    const o = dynsym.offset + i * 24;
    if (b.readUInt16LE(o + 6) !== 0) continue; // defined here
    const name = cstr(b, dynstr + b.readUInt32LE(o));
    if (!name) continue;
    const v = versym ? b.readUInt16LE(versym.offset + i * 2) & 0x7fff : 0;
    undefinedSyms.push({ name, version: versionName.get(v) ?? '', weak: b[o + 4]! >> 4 === 2 });
  }
  return { machine, needed, undefined: undefinedSyms, versionsNeeded };
}

/** Compares dotted versions numerically ("2.17" < "2.28"); the prefix (GLIBC_) is dropped. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^[A-Z_]+/, '').split('.').map(Number);
  const pb = b.replace(/^[A-Z_]+/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The highest version with this prefix that the file needs ("GLIBC_2.28"), or undefined. */
export function highestVersion(info: ElfInfo, prefix: 'GLIBC_' | 'GLIBCXX_' | 'CXXABI_'): string | undefined {
  const all = Object.values(info.versionsNeeded).flat().filter((v) => v.startsWith(prefix) && /\d/.test(v));
  return all.sort(compareVersions).pop();
}

export interface PeInfo {
  machine: 'x64' | 'arm64' | number;
  isDll: boolean;
  /** Imported functions by DLL (names as written in the file; ordinal imports as '#n'). */
  imports: Record<string, string[]>;
  delayImports: Record<string, string[]>;
}

export function readPe(b: Buffer): PeInfo {
  if (b.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file (no MZ header)');
  const pe = b.readUInt32LE(0x3c);
  if (b.readUInt32BE(pe) !== 0x50450000) throw new Error('not a PE file (no PE signature)');
  const coff = pe + 4;
  const machineId = b.readUInt16LE(coff);
  const machine = machineId === 0x8664 ? 'x64' : machineId === 0xaa64 ? 'arm64' : machineId;
  const nsections = b.readUInt16LE(coff + 2);
  const optSize = b.readUInt16LE(coff + 16);
  const isDll = (b.readUInt16LE(coff + 18) & 0x2000) !== 0;
  const opt = coff + 20;
  if (b.readUInt16LE(opt) !== 0x20b) throw new Error('not a PE32+ (64-bit) image');
  const dir = (i: number) => ({ rva: b.readUInt32LE(opt + 112 + i * 8), size: b.readUInt32LE(opt + 112 + i * 8 + 4) });
  const secs = Array.from({ length: nsections }, (_, i) => {
    const o = opt + optSize + i * 40;
    return { va: b.readUInt32LE(o + 12), vsize: b.readUInt32LE(o + 8), raw: b.readUInt32LE(o + 20), rawSize: b.readUInt32LE(o + 16) };
  });
  const off = (rva: number) => {
    const s = secs.find((x) => rva >= x.va && rva < x.va + Math.max(x.vsize, x.rawSize));
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  const thunks = (rva: number): string[] => {
    const names: string[] = [];
    for (let o = off(rva); ; o += 8) {
      const v = b.readBigUInt64LE(o);
      if (v === 0n) break;
      names.push(v & (1n << 63n) ? `#${Number(v & 0xffffn)}` : cstr(b, off(Number(v & 0x7fffffffn)) + 2));
    }
    return names;
  };
  const imports: Record<string, string[]> = {};
  const imp = dir(1);
  if (imp.rva) {
    for (let o = off(imp.rva); ; o += 20) {
      const lookup = b.readUInt32LE(o) || b.readUInt32LE(o + 16);
      const name = b.readUInt32LE(o + 12);
      if (!lookup && !name) break;
      imports[cstr(b, off(name))] = thunks(lookup);
    }
  }
  const delayImports: Record<string, string[]> = {};
  const delay = dir(13);
  if (delay.rva) {
    for (let o = off(delay.rva); ; o += 32) {
      const name = b.readUInt32LE(o + 4);
      if (!name) break;
      delayImports[cstr(b, off(name))] = thunks(b.readUInt32LE(o + 16));
    }
  }
  return { machine, isDll, imports, delayImports };
}

export interface MachOInfo {
  cpu: 'arm64' | 'x86_64' | number;
  fileType: 'dylib' | 'bundle' | number;
  /** Minimum macOS version (LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX), e.g. "14.0". */
  minOs: string | undefined;
  installName: string | undefined;
  dylibs: string[];
  rpaths: string[];
  codeSigned: boolean;
  /** Undefined external symbols and where dyld looks them up: a linked dylib, or 'dynamic lookup'
   * (flat namespace: whatever the loading process provides, node's napi_* for an addon). */
  undefined: { name: string; from: string }[];
}

export function readMachO(b: Buffer): MachOInfo {
  if (b.readUInt32LE(0) !== 0xfeedfacf) throw new Error('not a 64-bit little-endian Mach-O file');
  const cpuId = b.readUInt32LE(4);
  const cpu = cpuId === 0x0100000c ? 'arm64' : cpuId === 0x01000007 ? 'x86_64' : cpuId;
  const typeId = b.readUInt32LE(12);
  const fileType = typeId === 6 ? 'dylib' : typeId === 8 ? 'bundle' : typeId;
  const ncmds = b.readUInt32LE(16);
  const ver = (v: number) => `${v >>> 16}.${(v >> 8) & 0xff}${v & 0xff ? `.${v & 0xff}` : ''}`;
  const info: MachOInfo = { cpu, fileType, minOs: undefined, installName: undefined, dylibs: [], rpaths: [], codeSigned: false, undefined: [] };
  let symtab: { symoff: number; nsyms: number; stroff: number } | undefined;
  let fixups: { off: number } | undefined;
  const bindStreams: [number, number][] = [];
  let o = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = b.readUInt32LE(o);
    const size = b.readUInt32LE(o + 4);
    const str = () => cstr(b, o + b.readUInt32LE(o + 8));
    if (cmd === 0x32) info.minOs = ver(b.readUInt32LE(o + 12));
    else if (cmd === 0x24 && !info.minOs) info.minOs = ver(b.readUInt32LE(o + 8));
    else if (cmd === 0xd) info.installName = str();
    else if ([0xc, 0x20, 0x80000018, 0x8000001f, 0x80000023].includes(cmd)) info.dylibs.push(str());
    else if (cmd === 0x8000001c) info.rpaths.push(str());
    else if (cmd === 0x1d) info.codeSigned = true;
    else if (cmd === 0x2) symtab = { symoff: b.readUInt32LE(o + 8), nsyms: b.readUInt32LE(o + 12), stroff: b.readUInt32LE(o + 16) };
    else if (cmd === 0x80000034) fixups = { off: b.readUInt32LE(o + 8) };
    else if (cmd === 0x22 || cmd === 0x80000022) {
      bindStreams.push([b.readUInt32LE(o + 16), b.readUInt32LE(o + 20)]); // bind
      bindStreams.push([b.readUInt32LE(o + 32), b.readUInt32LE(o + 36)]); // lazy bind
    }
    o += size;
  }
  const libraryOf = (ordinal: number, flat: number, main: number) =>
    ordinal === flat ? 'dynamic lookup' : ordinal === main ? 'main executable' : ordinal === 0 ? 'self' : info.dylibs[ordinal - 1] ?? `ordinal ${ordinal}`;
  if (fixups) {
    // LC_DYLD_CHAINED_FIXUPS (what current linkers write): the imports table says where each symbol binds.
    const h = fixups.off;
    const importsOff = h + b.readUInt32LE(h + 8);
    const symbolsOff = h + b.readUInt32LE(h + 12);
    const count = b.readUInt32LE(h + 16);
    const format = b.readUInt32LE(h + 20);
    for (let i = 0; i < count; i++) {
      let from: string;
      let nameOff: number;
      if (format === 3) {
        const e = importsOff + i * 16;
        from = libraryOf(b.readUInt32LE(e) & 0xffff, 0xfffe, 0xffff);
        nameOff = b.readUInt32LE(e + 4);
      } else {
        const v = b.readUInt32LE(importsOff + i * (format === 2 ? 8 : 4));
        from = libraryOf(v & 0xff, 0xfe, 0xff);
        nameOff = v >>> 9;
      }
      info.undefined.push({ name: cstr(b, symbolsOff + nameOff), from });
    }
  } else if (bindStreams.some(([, size]) => size > 0)) {
    // LC_DYLD_INFO(_ONLY): dyld's bind opcodes say where each symbol binds (the symbol table's library
    // ordinals are advisory). Walk them, recording the library ordinal in force at every bind.
    const seen = new Map<string, string>();
    for (const [start, size] of bindStreams) {
      let p = start;
      const end = start + size;
      let ordinal = 0;
      let name = '';
      const uleb = () => {
        let v = 0;
        let shift = 0;
        for (;;) {
          const byte = b[p++]!;
          v += (byte & 0x7f) * 2 ** shift;
          shift += 7;
          if (byte < 0x80) return v;
        }
      };
      while (p < end) {
        const byte = b[p++]!;
        const op = byte & 0xf0;
        const imm = byte & 0x0f;
        if (op === 0x10) ordinal = imm;
        else if (op === 0x20) ordinal = uleb();
        else if (op === 0x30) ordinal = imm === 0 ? 0 : 0x100 - (0x10 - imm); // signed: 0xf → -1 (0xff), 0xe → -2 (0xfe)
        else if (op === 0x40) {
          name = cstr(b, p);
          p += Buffer.byteLength(name, 'latin1') + 1;
        } else if (op === 0x60) uleb(); // SLEB addend: same length as a ULEB
        else if (op === 0x70 || op === 0x80 || op === 0xa0) uleb();
        else if (op === 0xc0) {
          uleb();
          uleb();
        }
        if (op === 0x90 || op === 0xa0 || op === 0xb0 || op === 0xc0) seen.set(name, libraryOf(ordinal, 0xfe, 0xff));
      }
    }
    for (const [name, from] of seen) info.undefined.push({ name, from });
  } else if (symtab) {
    for (let i = 0; i < symtab.nsyms; i++) {
      const s = symtab.symoff + i * 16;
      const type = b[s + 4]!;
      if ((type & 0xe0) !== 0 || (type & 0x0e) !== 0 || (type & 0x01) === 0) continue; // stabs, defined, or local
      const from = libraryOf((b.readUInt16LE(s + 6) >> 8) & 0xff, 0xfe, 0xff);
      info.undefined.push({ name: cstr(b, symtab.stroff + b.readUInt32LE(s)), from });
    }
  }
  return info;
}
