console.log("pond 0.1.0");
