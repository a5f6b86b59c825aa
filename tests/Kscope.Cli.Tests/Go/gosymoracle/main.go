// gosymoracle dumps every function of a Go ELF binary through Go's own debug/gosym and
// debug/elf: the reference kscope's pclntab reader is compared with (tests/Kscope.Cli.Tests/Go).
//
//	gosymoracle [-samples N] [-bytes EVERY] FILE
//
// The pclntab is the .gopclntab section, else (PIE and externally linked binaries fold it into
// .data.rel.ro or .rodata) found by its magic and a header that parses. R_X86_64_RELATIVE and
// R_AARCH64_RELATIVE relocations of .rela.dyn that fall inside the table are applied to a copy of
// it first: in a PIE binary they fill in the header's text start (Go 1.18+) or every functab pc
// (Go 1.2-1.17). The text start handed to debug/gosym is the header's, relocated, never the
// address of .text: cgo and external linking put C code before runtime.text.
//
// Output, tab separated, one record a line:
//
//	magic   0xfffffff1
//	text    0x4011a0              text start used (header's, relocated; functab's first pc before 1.18)
//	elftext 0x401000              address of .text, for comparison
//	table   .gopclntab 0x5a0000   where the table was found, its address
//	relocs  3                     relocations applied inside the table
//	nolines 12                    functions without a pc-line table (cgo's C functions): see below
//	F  entry end name file line   every function, file:line at its entry
//	S  pc file line               sampled mid-function pcs (N a function, deterministic)
//	B  entry hex                  the first 16 bytes at the entry of every EVERY-th function
//
// One deviation from debug/gosym, the runtime's rule: a function whose pcfile or pcln offset is 0
// has no such table (runtime.pcvalue returns -1 for offset 0); debug/gosym reads whatever table
// is at offset 0 of pctab then (another function's). For those the oracle prints file "" and line
// -1, as the runtime (and a traceback) would.
//
// Standard library only, so it builds offline (GO111MODULE=off, GOPROXY=off).
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
)

const (
	rX8664Relative   = 8
	rAarch64Relative = 1027
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gosymoracle: "+format+"\n", args...)
	os.Exit(2)
}

var magics = map[uint32]bool{0xfffffffb: true, 0xfffffffa: true, 0xfffffff0: true, 0xfffffff1: true}

// plausible reports whether b starts with a pclntab header and a table debug/gosym can read.
func plausible(b []byte) bool {
	if len(b) < 64 || !magics[binary.LittleEndian.Uint32(b)] || b[4] != 0 || b[5] != 0 ||
		(b[6] != 1 && b[6] != 2 && b[6] != 4) || b[7] != 8 {
		return false
	}
	nfunc := binary.LittleEndian.Uint64(b[8:])
	return nfunc > 0 && nfunc < uint64(len(b))/8
}

func main() {
	samples := flag.Int("samples", 4, "mid-function pcs a function")
	every := flag.Int("bytes", 97, "print the entry bytes of every N-th function (0: none)")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("usage: gosymoracle [-samples N] [-bytes EVERY] FILE")
	}
	f, err := elf.Open(flag.Arg(0))
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()

	var table []byte
	var tableAddr uint64
	where := ""
	if s := f.Section(".gopclntab"); s != nil {
		table, err = s.Data()
		if err != nil {
			fail("read .gopclntab: %v", err)
		}
		tableAddr, where = s.Addr, ".gopclntab"
	} else {
		for _, s := range f.Sections {
			if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_ALLOC == 0 || s.Flags&elf.SHF_EXECINSTR != 0 {
				continue
			}
			data, err := s.Data()
			if err != nil {
				continue
			}
			for i := 0; i+64 <= len(data); i += 4 {
				if !plausible(data[i:]) {
					continue
				}
				if lt := gosym.NewLineTable(data[i:], 0); lt != nil {
					if t, err := gosym.NewTable(nil, lt); err == nil && len(t.Funcs) > 0 {
						table, tableAddr, where = data[i:], s.Addr+uint64(i), s.Name
						break
					}
				}
			}
			if table != nil {
				break
			}
		}
	}
	if table == nil {
		fail("%s: no Go pclntab", flag.Arg(0))
	}
	magic := binary.LittleEndian.Uint32(table)

	// Relocations inside the table (PIE): apply them to a copy.
	relocs := 0
	if rela := f.Section(".rela.dyn"); rela != nil {
		data, err := rela.Data()
		if err != nil {
			fail("read .rela.dyn: %v", err)
		}
		patched := append([]byte(nil), table...)
		for i := 0; i+24 <= len(data); i += 24 {
			off := f.ByteOrder.Uint64(data[i:])
			typ := uint32(f.ByteOrder.Uint64(data[i+8:]))
			addend := f.ByteOrder.Uint64(data[i+16:])
			if (typ != rX8664Relative || f.Machine != elf.EM_X86_64) && (typ != rAarch64Relative || f.Machine != elf.EM_AARCH64) {
				continue
			}
			if off >= tableAddr && off+8 <= tableAddr+uint64(len(table)) {
				f.ByteOrder.PutUint64(patched[off-tableAddr:], addend)
				relocs++
			}
		}
		table = patched
	}

	var textStart uint64
	if magic == 0xfffffff0 || magic == 0xfffffff1 {
		textStart = binary.LittleEndian.Uint64(table[8+2*8:])
	} else {
		textStart = binary.LittleEndian.Uint64(table[16:]) // functab[0].pc (Go 1.2: after nfunc; 1.16: see below)
		if magic == 0xfffffffa {
			pclnOff := binary.LittleEndian.Uint64(table[8+6*8:])
			textStart = binary.LittleEndian.Uint64(table[pclnOff:])
		}
	}
	// pcfile and pcln offsets of function i, read from its _func record (see the package comment).
	u64 := func(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
	u32 := func(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
	tablesOf := func(i int) (pcfile, pcln uint32) {
		var fn uint64
		sz0 := uint64(8)
		switch magic {
		case 0xfffffff0, 0xfffffff1:
			pcln := u64(table[8+7*8:])
			fn, sz0 = pcln+uint64(u32(table[pcln+uint64(i)*8+4:])), 4
		case 0xfffffffa:
			pcln := u64(table[8+6*8:])
			fn = pcln + u64(table[pcln+uint64(i)*16+8:])
		default:
			fn = u64(table[16+uint64(i)*16+8:])
		}
		return u32(table[fn+sz0+16:]), u32(table[fn+sz0+20:])
	}

	lt := gosym.NewLineTable(table, textStart)
	tab, err := gosym.NewTable(nil, lt)
	if err != nil {
		fail("debug/gosym: %v", err)
	}

	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	elfText := uint64(0)
	if s := f.Section(".text"); s != nil {
		elfText = s.Addr
	}
	noLines := 0
	for i := range tab.Funcs {
		if f, l := tablesOf(i); f == 0 || l == 0 {
			noLines++
		}
	}
	fmt.Fprintf(w, "magic\t0x%x\ntext\t0x%x\nelftext\t0x%x\ntable\t%s\t0x%x\nrelocs\t%d\nnolines\t%d\n", magic, textStart, elfText, where, tableAddr, relocs, noLines)

	var code [][2]uint64 // executable sections: [addr, end)
	var codeData [][]byte
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_EXECINSTR != 0 && s.Type == elf.SHT_PROGBITS {
			d, err := s.Data()
			if err == nil {
				code = append(code, [2]uint64{s.Addr, s.Addr + uint64(len(d))})
				codeData = append(codeData, d)
			}
		}
	}
	entryBytes := func(pc uint64) []byte {
		for k, c := range code {
			if pc >= c[0] && pc+16 <= c[1] {
				return codeData[k][pc-c[0] : pc-c[0]+16]
			}
		}
		return nil
	}

	seed := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 { // splitmix64: the same samples on every run
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for i, fn := range tab.Funcs {
		pcfile, pcln := tablesOf(i)
		pcToLine := func(pc uint64) (string, int) {
			file, line, _ := tab.PCToLine(pc)
			if pcfile == 0 {
				file = ""
			}
			if pcln == 0 {
				line = -1
			}
			return file, line
		}
		file, line := pcToLine(fn.Entry)
		fmt.Fprintf(w, "F\t0x%x\t0x%x\t%s\t%s\t%d\n", fn.Entry, fn.End, fn.Name, file, line)
		if size := fn.End - fn.Entry; size > 1 {
			for j := 0; j < *samples; j++ {
				pc := fn.Entry + 1 + next()%(size-1)
				file, line := pcToLine(pc)
				fmt.Fprintf(w, "S\t0x%x\t%s\t%d\n", pc, file, line)
			}
		}
		if *every > 0 && i%*every == 0 {
			if b := entryBytes(fn.Entry); b != nil && !bytes.Equal(b, make([]byte, 16)) {
				fmt.Fprintf(w, "B\t0x%x\t%s\n", fn.Entry, hex.EncodeToString(b))
			}
		}
	}
}
