Console.WriteLine("Roto.Bench.Tracking: not written yet");
