import { describe, expect, test } from "bun:test";
import { isNumericType, slugFor } from "./site-series.ts";

describe("site series", () => {
  test("slugFor() names a page after the pond path, unique without regard to case", () => {
    const taken = new Set<string>();
    expect(slugFor("/st/lake.series", taken)).toBe("st.lake");
    expect(slugFor("/st/Lake.series", taken)).toBe("st.Lake-2");
    expect(slugFor("/a b/ü?.series", taken)).toBe("a_b.__");
    expect(slugFor("/st.lake.series", taken)).toBe("st.lake-3");
  });

  test("isNumericType() takes DuckDB's number types and nothing else", () => {
    expect(["INTEGER", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL(10,2)", "UTINYINT", "HUGEINT"].every(isNumericType)).toBe(true);
    expect(["VARCHAR", "DATE", "TIMESTAMP", "BOOLEAN", "DOUBLE[]", "INTERVAL"].some(isNumericType)).toBe(false);
  });
});
