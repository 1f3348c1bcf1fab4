import * as a from "apache-arrow"; import * as h from "hyparquet"; import * as w from "hyparquet-writer";
console.log(Object.keys(a).length + Object.keys(h).length + Object.keys(w).length);
