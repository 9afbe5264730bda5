/* Prints, for every code point, facts from the UCD compiled into unicodedata_db.h (the database
 * CPython's unicodedata module and unicodedata2 are built from):
 *   CODEPOINT CATEGORY COMBINING_CLASS CANONICAL_DECOMPOSITION(0|1)                              */
#include <stdio.h>

typedef unsigned int Py_UCS4;
typedef struct {
  const unsigned char category, combining, bidirectional, mirrored, east_asian_width, normalization_quick_check;
} _PyUnicode_DatabaseRecord;
typedef struct change_record {
  const unsigned char bidir_changed, category_changed, decimal_changed, mirrored_changed, east_asian_width_changed;
  const double numeric_changed;
} change_record;

#include "unicodedata_db.h"

int main(void) {
  for (Py_UCS4 code = 0; code < 0x110000; ++code) {
    int index = index1[(code >> SHIFT)];
    index = index2[(index << SHIFT) + (code & ((1 << SHIFT) - 1))];
    const _PyUnicode_DatabaseRecord* rec = &_PyUnicode_Database_Records[index];
    int d = decomp_index1[(code >> DECOMP_SHIFT)];
    d = decomp_index2[(d << DECOMP_SHIFT) + (code & ((1 << DECOMP_SHIFT) - 1))];
    const unsigned int count = decomp_data[d] >> 8, prefix = decomp_data[d] & 255;
    printf("%X %s %d %d\n", code, _PyUnicode_CategoryNames[rec->category], rec->combining,
           count > 0 && prefix == 0 ? 1 : 0);
  }
  return 0;
}
